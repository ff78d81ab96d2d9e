namespace DatasetQuant.Training.Model;

/// <summary>
/// xoshiro256** seeded through SplitMix64. The trainer needs the same stream on every runtime and after a resume
/// (the shuffle of epoch e is a function of the seed and e alone), which <see cref="Random"/> does not promise.
/// A struct: drawing numbers allocates nothing.
/// </summary>
public struct SeededRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    public SeededRandom(ulong seed)
    {
        _s0 = SplitMix(ref seed);
        _s1 = SplitMix(ref seed);
        _s2 = SplitMix(ref seed);
        _s3 = SplitMix(ref seed);
    }

    /// <summary>An independent stream for one (seed, purpose, index) triple, e.g. the shuffle of one epoch.</summary>
    public static SeededRandom For(long seed, int purpose, int index) =>
        new(unchecked((ulong)seed ^ ((ulong)(uint)purpose << 48) ^ ((ulong)(uint)index * 0x9E3779B97F4A7C15UL)));

    public ulong NextUInt64()
    {
        var result = RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

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

    private static ulong SplitMix(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
