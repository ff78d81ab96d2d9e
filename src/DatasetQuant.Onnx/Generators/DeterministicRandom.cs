using DatasetQuant.Core.Randomness;

namespace DatasetQuant.Onnx.Generators;

/// <summary>
/// <see cref="Xoshiro256"/> with uniforms and Box–Muller normals for generator noise. The integer and uniform streams
/// are bit-identical everywhere; the normals go through libm's log, sin and cos, which agree on one platform but may
/// differ in the last bit between, say, x86-64 and arm64.
/// </summary>
public struct DeterministicRandom
{
    private Xoshiro256 _bits;
    private double _spare;
    private bool _hasSpare;

    public DeterministicRandom(ulong seed)
    {
        _bits = new Xoshiro256(seed);
        _spare = 0;
        _hasSpare = false;
    }

    public ulong NextUInt64() => _bits.NextUInt64();

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, bound).</summary>
    public int NextInt(int bound) => (int)((NextUInt64() >> 32) * (ulong)bound >> 32);

    public float NextGaussian()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return (float)_spare;
        }

        var u1 = 1.0 - NextDouble(); // (0, 1]: log is finite
        var u2 = NextDouble();
        var radius = Math.Sqrt(-2.0 * Math.Log(u1));
        var angle = 2.0 * Math.PI * u2;
        _spare = radius * Math.Sin(angle);
        _hasSpare = true;
        return (float)(radius * Math.Cos(angle));
    }
}
