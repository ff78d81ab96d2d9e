namespace DatasetQuant.Core.Quantization.Planes;

/// <summary>
/// One sample's threshold grid for the planes codec (docs/format.md §14): 256 cells of <see cref="Step"/> from
/// <see cref="Origin"/> (pixel scale 0–255), placed so that the first plane splits the sample at its two-means
/// threshold (the best 1-bit split) and the 256 cells cover its range. With k planes a pixel is known to a cell of
/// 2^(8−k) steps and is reconstructed at the cell's middle: the grid is nested, so k planes are a prefix of k + 1.
/// Both numbers are binary16 values, as the index stores them, and reconstruction is the format's float32 arithmetic.
/// </summary>
public readonly record struct PlaneGrid(float Origin, float Step)
{
    /// <summary>The least step: a finer grid than half a grey level only spends planes on noise.</summary>
    public const float MinStep = 0.5f;

    public bool IsValid => float.IsFinite(Origin) && float.IsFinite(Step) && Step > 0f;

    public static PlaneGrid Fit(ReadOnlySpan<byte> pixels)
    {
        Span<float> values = pixels.Length <= 4096 ? stackalloc float[pixels.Length] : new float[pixels.Length];
        for (var p = 0; p < pixels.Length; p++)
        {
            values[p] = pixels[p];
        }

        return Fit(values);
    }

    /// <summary>The grid of one sample's pixels (0–255 scale): two-means threshold, then a step that covers the range.</summary>
    public static PlaneGrid Fit(ReadOnlySpan<float> pixels)
    {
        double min = 255, max = 0, sum = 0;
        foreach (var v in pixels)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
            sum += v;
        }

        var threshold = sum / Math.Max(1, pixels.Length);
        for (var iteration = 0; iteration < 10; iteration++)
        {
            double low = 0, high = 0;
            int lowCount = 0, highCount = 0;
            foreach (var v in pixels)
            {
                if (v < threshold)
                {
                    (low, lowCount) = (low + v, lowCount + 1);
                }
                else
                {
                    (high, highCount) = (high + v, highCount + 1);
                }
            }

            if (lowCount == 0 || highCount == 0)
            {
                break;
            }

            threshold = ((low / lowCount) + (high / highCount)) / 2;
        }

        // Rounded up to binary16, so the 256 cells still cover the range; the origin is rounded as it falls.
        var step = (float)Math.Max(Math.Max(threshold - min, max - threshold) / 128, MinStep);
        var stored = (float)(Half)step;
        if (stored < step)
        {
            stored = (float)BitConverter.UInt16BitsToHalf((ushort)(BitConverter.HalfToUInt16Bits((Half)stored) + 1));
        }

        return new PlaneGrid((float)(Half)(threshold - (128 * stored)), stored);
    }

    /// <summary>The 8-bit codes: the cell each pixel falls in, clamped to 0..255.</summary>
    public void Encode(ReadOnlySpan<float> pixels, Span<byte> codes)
    {
        for (var p = 0; p < pixels.Length; p++)
        {
            codes[p] = (byte)Math.Clamp((int)Math.Floor((pixels[p] - (double)Origin) / Step), 0, 255);
        }
    }

    public void Encode(ReadOnlySpan<byte> pixels, Span<byte> codes)
    {
        for (var p = 0; p < pixels.Length; p++)
        {
            codes[p] = (byte)Math.Clamp((int)Math.Floor((pixels[p] - (double)Origin) / Step), 0, 255);
        }
    }

    /// <summary>A pixel's value when its code's top <paramref name="planes"/> bits are known (1..8).</summary>
    public float Reconstruct(byte code, int planes) => Cell(code >> (PlaneCoder.Planes - planes), planes);

    /// <summary>
    /// The value of cell <paramref name="cell"/> of a <paramref name="planes"/>-plane code (its top bits), as format.md §14
    /// defines it: origin + step · (the cell's first code + half its width), each operation rounded to float32, clamped to [0, 255].
    /// </summary>
    public float Cell(int cell, int planes)
    {
        var dropped = PlaneCoder.Planes - planes;
        var middle = (float)((cell << dropped) + ((1 << dropped) * 0.5f));
        var product = Step * middle;
        return Math.Clamp(Origin + product, 0f, 255f);
    }
}
