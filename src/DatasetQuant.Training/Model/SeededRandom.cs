using DatasetQuant.Core.Randomness;

namespace DatasetQuant.Training.Model;

/// <summary>
/// <see cref="Xoshiro256"/> with what the trainer draws. The trainer needs the same stream on every runtime and after a
/// resume (the shuffle of epoch e is a function of the seed and e alone), which <see cref="Random"/> does not promise.
/// A struct: drawing numbers allocates nothing.
/// </summary>
public struct SeededRandom
{
    private Xoshiro256 _bits;

    public SeededRandom(ulong seed) => _bits = new Xoshiro256(seed);

    /// <summary>An independent stream for one (seed, purpose, index) triple, e.g. the shuffle of one epoch.</summary>
    public static SeededRandom For(long seed, int purpose, int index) =>
        new(unchecked((ulong)seed ^ ((ulong)(uint)purpose << 48) ^ ((ulong)(uint)index * 0x9E3779B97F4A7C15UL)));

    public ulong NextUInt64() => _bits.NextUInt64();

    /// <summary>Uniform in [0, <paramref name="bound"/>) without modulo bias (Lemire's multiply-shift).</summary>
    public int NextInt(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        var product = (UInt128)NextUInt64() * (ulong)bound;
        return (int)(ulong)(product >> 64);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public float NextSingle() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>Standard normal (Box–Muller; the second value is discarded to keep the state small).</summary>
    public float NextGaussian()
    {
        var u1 = ((NextUInt64() >> 11) + 1) * (1.0 / 9007199254740993.0);
        var u2 = (NextUInt64() >> 11) * (1.0 / 9007199254740992.0);
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle(Span<int> values)
    {
        for (var i = values.Length - 1; i > 0; i--)
        {
            var j = NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }
}
