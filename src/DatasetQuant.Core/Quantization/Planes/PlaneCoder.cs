namespace DatasetQuant.Core.Quantization.Planes;

/// <summary>
/// Codes the bit planes of a sample's 8-bit embedded codes (docs/format.md §11), most significant first, each pixel's
/// bit with a probability chosen by its neighbourhood: how many of the three pixels above it are still in its cell (the
/// same bits above this plane) and how many of those have this bit set, and whether the pixel to its left is in its
/// cell and with which bit. 48 contexts per plane. Everything a context reads is known to a decoder at that point
/// (planes above; this plane's bits before the pixel in raster order), so decoding recomputes it. Each plane is its own
/// segment (a fresh coder), so a sample with k planes is a prefix of the one with k + 1: the planes codec of
/// docs/format.md §14.
/// </summary>
public static class PlaneCoder
{
    public const int Planes = 8;

    public const int Contexts = 48;

    /// <summary>The context of pixel (<paramref name="y"/>, <paramref name="x"/>) of one channel's codes at bit <paramref name="bit"/>.</summary>
    public static int Context(ReadOnlySpan<byte> channel, int width, int y, int x, int bit)
    {
        var row = y * width;
        var cell = channel[row + x] >> (bit + 1);
        int same = 0, ones = 0, left = 0;
        if (y > 0)
        {
            var above = row - width;
            for (var nx = Math.Max(0, x - 1); nx <= Math.Min(width - 1, x + 1); nx++)
            {
                var code = channel[above + nx];
                if (code >> (bit + 1) == cell)
                {
                    same++;
                    ones += (code >> bit) & 1;
                }
            }
        }

        if (x > 0)
        {
            var code = channel[row + x - 1];
            if (code >> (bit + 1) == cell)
            {
                left = 1 + ((code >> bit) & 1);
            }
        }

        return (((same * 4) + ones) * 3) + left;
    }

    /// <summary>Adds one sample's bits to <paramref name="zeros"/> and <paramref name="totals"/>, indexed bit × 48 + context.</summary>
    public static void Count(ReadOnlySpan<byte> codes, int channels, int height, int width, Span<long> zeros, Span<long> totals)
    {
        var plane = height * width;
        for (var bit = Planes - 1; bit >= 0; bit--)
        {
            for (var c = 0; c < channels; c++)
            {
                var channel = codes.Slice(c * plane, plane);
                for (int y = 0, p = 0; y < height; y++)
                {
                    for (var x = 0; x < width; x++, p++)
                    {
                        var index = (bit * Contexts) + Context(channel, width, y, x, bit);
                        totals[index]++;
                        zeros[index] += 1 - ((channel[p] >> bit) & 1);
                    }
                }
            }
        }
    }

    /// <summary>Codes bit <paramref name="bit"/> of every pixel; the planes above it must have been coded before.</summary>
    public static void EncodePlane(ref BinaryRangeEncoder encoder, ReadOnlySpan<byte> codes, int channels, int height, int width, int bit, PlaneProbabilities probabilities)
    {
        var plane = height * width;
        for (var c = 0; c < channels; c++)
        {
            var channel = codes.Slice(c * plane, plane);
            for (int y = 0, p = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++, p++)
                {
                    encoder.Encode((channel[p] >> bit) & 1, probabilities.Zero(bit, Context(channel, width, y, x, bit)));
                }
            }
        }
    }

    /// <summary>
    /// Decodes bit <paramref name="bit"/> of every pixel into <paramref name="codes"/>, whose bits above it hold the planes
    /// decoded before and whose bits at and below it are 0.
    /// </summary>
    public static void DecodePlane(ref BinaryRangeDecoder decoder, Span<byte> codes, int channels, int height, int width, int bit, PlaneProbabilities probabilities)
    {
        var plane = height * width;
        for (var c = 0; c < channels; c++)
        {
            var channel = codes.Slice(c * plane, plane);
            for (int y = 0, p = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++, p++)
                {
                    channel[p] |= (byte)(decoder.Decode(probabilities.Zero(bit, Context(channel, width, y, x, bit))) << bit);
                }
            }
        }
    }

    /// <summary>A buffer certain to hold one plane's segment: 11 bits per pixel at worst, and the flush.</summary>
    public static int SegmentBound(int pixels) => (int)((((long)pixels * BinaryRangeEncoder.ProbabilityBits) + 7) / 8) + 16;

    /// <summary>
    /// Codes the top <paramref name="planes"/> planes of <paramref name="codes"/>, each as its own segment, back to back
    /// into <paramref name="output"/>; <paramref name="lengths"/>[k] gets plane k's length. <paramref name="scratch"/>
    /// holds <see cref="SegmentBound"/> bytes. Returns the bytes written.
    /// </summary>
    public static int EncodeSegments(ReadOnlySpan<byte> codes, int channels, int height, int width, int planes, PlaneProbabilities probabilities,
        byte[] scratch, Span<byte> output, Span<int> lengths)
    {
        var written = 0;
        for (var k = 0; k < planes; k++)
        {
            var encoder = new BinaryRangeEncoder(scratch);
            EncodePlane(ref encoder, codes, channels, height, width, Planes - 1 - k, probabilities);
            var length = encoder.Finish();
            scratch.AsSpan(0, length).CopyTo(output[written..]);
            lengths[k] = length;
            written += length;
        }

        return written;
    }
}
