using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using DatasetQuant.Core.Formats.Dqs;

namespace DatasetQuant.Core.Tests;

public sealed class DecodeKernelTests
{
    public static TheoryData<int> Widths => [1, 2, 3, 4, 5, 6, 7, 8];

    [Theory]
    [Trait("Category", "Simd")]
    [MemberData(nameof(Widths))]
    public void Decode_matches_the_reference_formula_for_every_width_offset_and_length(int bits)
    {
        var random = new Random(bits);
        foreach (var count in new[] { 1, 7, 8, 15, 16, 17, 31, 33, 100, 784, 1024, 3072 })
        {
            var codes = new byte[count + 24];
            for (var i = 0; i < codes.Length; i++)
            {
                codes[i] = (byte)random.Next(1 << bits);
            }

            var packed = new byte[(codes.Length * bits + 7) / 8];
            DqsBitPacking.Pack(codes, bits, packed);
            foreach (var first in new[] { 0, 1, 5, 8, 13, 16, 24 })
            {
                var destination = new float[count];
                const float multiplier = 0.37f, addend = -4.5f, min = -3f, max = 40f;

                DqsSimdDecoder.Decode(packed, bits, first, destination, multiplier, addend, min, max);

                for (var j = 0; j < count; j++)
                {
                    var expected = Math.Clamp(MathF.FusedMultiplyAdd(codes[first + j], multiplier, addend), min, max);
                    Assert.True(MathF.Abs(destination[j] - expected) <= 1e-5f,
                        $"{bits} bits, count {count}, first {first}, code {j}: {destination[j]} != {expected} (path {DqsSimdDecoder.Path})");
                }
            }
        }
    }

    // (multiplier, addend, min, max): no side of the clamp reachable, only the low side, only the high side, both, and a
    // decreasing map (both). The decoder picks its kernel from these, so each must agree with the formula.
    public static TheoryData<int, float, float, float, float> ClampCases()
    {
        var cases = new TheoryData<int, float, float, float, float>();
        foreach (var bits in new[] { 1, 2, 3, 4, 5, 6, 7, 8 })
        {
            var top = (1 << bits) - 1;
            var m = 2.5f / top;
            cases.Add(bits, m, -0.5f, -0.5f, 2.25f);
            cases.Add(bits, m, -0.5f, -0.5f + 0.75f, 2.5f);
            cases.Add(bits, m, -0.5f, -1f, 1.25f);
            cases.Add(bits, m, -0.5f, 0.1f, 1.5f);
            cases.Add(bits, -m, 1f, -0.75f, 0.6f);
        }

        return cases;
    }

    [Theory]
    [Trait("Category", "Simd")]
    [MemberData(nameof(ClampCases))]
    public void Decode_equals_the_fused_formula_whichever_sides_of_the_clamp_are_reachable(int bits, float multiplier, float addend, float min, float max)
    {
        var random = new Random(1000 + bits);
        var codes = new byte[3072 + 64];
        for (var i = 0; i < codes.Length; i++)
        {
            codes[i] = (byte)random.Next(1 << bits);
        }

        // 16 bytes of slack as the reader gives it, so the vector loop runs to the end; then the exact-length stream.
        var packed = new byte[(codes.Length * bits + 7) / 8 + 16];
        DqsBitPacking.Pack(codes, bits, packed);
        var exact = packed.AsSpan(0, ((3072 + 8) * bits + 7) / 8).ToArray();
        var fused = Fma.IsSupported || AdvSimd.IsSupported || DqsSimdDecoder.Path == "scalar";
        foreach (var stream in new[] { packed, exact })
        {
            foreach (var (first, count) in new[] { (0, 784), (0, 3072), (8, 3072), (3, 1000), (16, 17) })
            {
                var destination = new float[count];
                DqsSimdDecoder.Decode(stream, bits, first, destination, multiplier, addend, min, max);

                for (var j = 0; j < count; j++)
                {
                    var expected = MathF.Min(MathF.Max(MathF.FusedMultiplyAdd(codes[first + j], multiplier, addend), min), max);
                    // With a fused multiply-add the code·2^s · (m·2^−s) trick must give the very same float.
                    var tolerance = fused ? 0f : 1e-6f;
                    Assert.True(MathF.Abs(destination[j] - expected) <= tolerance,
                        $"{bits} bits, m {multiplier}, a {addend}, [{min}, {max}], first {first}, code {j} ({codes[first + j]}): {destination[j]} != {expected} (path {DqsSimdDecoder.Path})");
                }
            }
        }
    }

    [Theory]
    [Trait("Category", "Simd")]
    [MemberData(nameof(Widths))]
    public void Pack_then_unpack_is_the_identity_and_padding_is_zero(int bits)
    {
        var random = new Random(100 + bits);
        var codes = new byte[781];
        for (var i = 0; i < codes.Length; i++)
        {
            codes[i] = (byte)random.Next(1 << bits);
        }

        var packed = new byte[(codes.Length * bits + 7) / 8];
        DqsBitPacking.Pack(codes, bits, packed);
        var unpacked = new byte[codes.Length];
        DqsBitPacking.Unpack(packed, bits, 0, unpacked);

        Assert.Equal(codes, unpacked);
        var used = codes.Length * bits % 8;
        if (used != 0)
        {
            Assert.Equal(0, packed[^1] >> used);
        }
    }

    [Fact]
    public void Bit_order_is_least_significant_first()
    {
        // Codes 1, 2, 3 at 3 bits: bits 001 | 010 | 011 from bit 0 up = 0b011_010_001 = 0xD1, 0x00.
        var packed = new byte[2];
        DqsBitPacking.Pack([1, 2, 3], 3, packed);

        Assert.Equal(new byte[] { 0xD1, 0x00 }, packed);
    }

    [Fact]
    public void Crc32c_matches_the_standard_check_value()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
    }
}
