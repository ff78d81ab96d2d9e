using DatasetQuant.Core.Quantization.Planes;

namespace DatasetQuant.Core.Tests.Planes;

public sealed class BinaryRangeCoderTests
{
    [Theory]
    [InlineData(1, 0.5)]
    [InlineData(2, 0.05)]
    [InlineData(3, 0.95)]
    [InlineData(4, 0.999)]
    [InlineData(5, 0.0005)]
    public void Bits_decode_as_coded_and_cost_their_ideal_length_plus_at_most_two_bytes(int seed, double oneProbability)
    {
        var random = new Random(seed);
        foreach (var count in new[] { 0, 1, 7, 100, 20_000 })
        {
            var bits = new int[count];
            var zero = new int[count];
            double ideal = 0;
            for (var i = 0; i < count; i++)
            {
                // Each bit its own probability around the given one, as a context model gives them.
                var p1 = Math.Clamp(oneProbability * random.NextDouble() * 2, 0.0005, 0.9995);
                zero[i] = Math.Clamp((int)Math.Round((1 - p1) * BinaryRangeEncoder.ProbabilityOne), 1, BinaryRangeEncoder.ProbabilityOne - 1);
                bits[i] = random.NextDouble() < p1 ? 1 : 0;
                var q0 = zero[i] / (double)BinaryRangeEncoder.ProbabilityOne;
                ideal -= Math.Log2(bits[i] == 0 ? q0 : 1 - q0);
            }

            var buffer = new byte[(count * 11 / 8) + 16];
            var encoder = new BinaryRangeEncoder(buffer);
            for (var i = 0; i < count; i++)
            {
                encoder.Encode(bits[i], zero[i]);
            }

            var length = encoder.Finish();
            var decoder = new BinaryRangeDecoder(buffer.AsSpan(0, length));
            for (var i = 0; i < count; i++)
            {
                Assert.Equal(bits[i], decoder.Decode(zero[i]));
            }

            Assert.InRange(length, Math.Floor(ideal / 8) - 1, Math.Ceiling(ideal / 8) + 2);
        }
    }

    [Fact]
    public void A_copy_finished_midway_gives_a_segment_of_the_bits_so_far_and_the_original_goes_on()
    {
        var random = new Random(7);
        var bits = Enumerable.Range(0, 5_000).Select(_ => random.Next(4) == 0 ? 1 : 0).ToArray();
        var buffer = new byte[2_000];
        var encoder = new BinaryRangeEncoder(buffer);
        var prefixes = new Dictionary<int, byte[]>();
        for (var i = 0; i < bits.Length; i++)
        {
            encoder.Encode(bits[i], 1536);
            if (i % 1_000 == 999)
            {
                var copy = encoder;
                prefixes[i + 1] = buffer.AsSpan(0, copy.Finish()).ToArray();
            }
        }

        var whole = buffer.AsSpan(0, encoder.Finish()).ToArray();
        foreach (var (count, segment) in prefixes.Append(new(bits.Length, whole)))
        {
            var decoder = new BinaryRangeDecoder(segment);
            for (var i = 0; i < count; i++)
            {
                Assert.Equal(bits[i], decoder.Decode(1536));
            }
        }
    }

    [Fact]
    public void A_truncated_segment_still_decodes_its_first_bits_and_never_reads_past_its_end()
    {
        var buffer = new byte[64];
        var encoder = new BinaryRangeEncoder(buffer);
        var bits = Enumerable.Range(0, 200).Select(i => i % 3 == 0 ? 1 : 0).ToArray();
        foreach (var bit in bits)
        {
            encoder.Encode(bit, 1024);
        }

        var length = encoder.Finish();
        Assert.True(length > 20, $"{length} bytes");
        // Half the bytes fix the first ~ (half − 4) × 8 coded bits; a span of exactly those bytes is all the decoder can see.
        var half = buffer.AsSpan(0, length / 2).ToArray();
        var decoder = new BinaryRangeDecoder(half);
        for (var i = 0; i < ((length / 2) - 4) * 8; i++)
        {
            Assert.Equal(bits[i], decoder.Decode(1024));
        }

        for (var i = 0; i < 10_000; i++)
        {
            decoder.Decode(1024);
        }
    }
}
