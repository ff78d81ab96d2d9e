namespace DatasetQuant.Core.Quantization.Planes;

/// <summary>
/// One sample's threshold grid for the planes codec (docs/format.md §14): 256 cells of <see cref="Step"/> =
/// (64 + <see cref="StepCode"/>) / 128 from <see cref="Origin"/> = <see cref="Threshold"/> − 128 · step (pixel scale
/// 0–255), placed so that the first plane splits the sample as its two-means threshold does (the best 1-bit split), the
/// 256 cells cover its range and the finer cells fall where its values do. With k planes a pixel is known to a cell of
/// 2^(8−k) steps and is reconstructed at the cell's middle: the grid is nested, so k planes are a prefix of k + 1. Two
/// bytes in the index; every reconstruction is exact in float32 (the origin is a whole number, the step a multiple of
/// 1/128 and a cell's middle of 1/2).
/// </summary>
public readonly record struct PlaneGrid(byte Threshold, byte StepCode)
{
    /// <summary>The largest step code: step 255/128, which covers a range of 255 on either side of the threshold.</summary>
    public const int MaxStepCode = 191;

    /// <summary>Steps run from 0.5 (a finer grid than half a grey level only spends planes on noise) to 255/128.</summary>
    public float Step => (64 + StepCode) / 128f;

    /// <summary>Where cell 0 starts: a whole number from −191 to 255.</summary>
    public int Origin => Threshold - 64 - StepCode;

    public bool IsValid => StepCode <= MaxStepCode;

    public static PlaneGrid Fit(ReadOnlySpan<byte> pixels)
    {
        Span<float> values = pixels.Length <= 4096 ? stackalloc float[pixels.Length] : new float[pixels.Length];
        for (var p = 0; p < pixels.Length; p++)
        {
            values[p] = pixels[p];
        }

        return Fit(values);
    }

    /// <summary>
    /// The grid of one sample's pixels (0–255 scale): the two-means threshold and the least step that covers the range,
    /// then moved to where the pixels' own values fall best (<see cref="PlaneGridSearch"/>).
    /// </summary>
    public static PlaneGrid Fit(ReadOnlySpan<float> pixels) =>
        PlaneGridSearch.Best(pixels, FitPlain(pixels, out var min, out var max), min, max);

    /// <summary>The grid the search starts from: the two-means threshold and the least step that covers the range.</summary>
    internal static PlaneGrid FitPlain(ReadOnlySpan<float> pixels, out double min, out double max)
    {
        double sum = 0;
        (min, max) = (255, 0);
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

        // A whole-number threshold splits whole-number pixels as the fitted one does (x ≥ t exactly when x ≥ ⌈t⌉).
        var whole = (int)Math.Clamp(Math.Ceiling(threshold - 1e-9), 0, 255);
        return new PlaneGrid((byte)whole, (byte)LeastStepCode(whole, min, max));
    }

    /// <summary>The least step code whose 256 cells from <paramref name="threshold"/> − 128·step cover [min, max].</summary>
    internal static int LeastStepCode(int threshold, double min, double max) =>
        (int)Math.Clamp(Math.Ceiling(Math.Max(threshold - min, max - threshold) - 64 - 1e-9), 0, MaxStepCode);

    /// <summary>The 8-bit codes: the cell each pixel falls in, clamped to 0..255.</summary>
    public void Encode(ReadOnlySpan<float> pixels, Span<byte> codes)
    {
        for (var p = 0; p < pixels.Length; p++)
        {
            codes[p] = CodeOf(pixels[p]);
        }
    }

    public void Encode(ReadOnlySpan<byte> pixels, Span<byte> codes)
    {
        for (var p = 0; p < pixels.Length; p++)
        {
            codes[p] = CodeOf(pixels[p]);
        }
    }

    /// <summary>A pixel's value when its code's top <paramref name="planes"/> bits are known (1..8).</summary>
    public float Reconstruct(byte code, int planes) => Cell(code >> (PlaneCoder.Planes - planes), planes);

    /// <summary>
    /// The value of cell <paramref name="cell"/> of a <paramref name="planes"/>-plane code (its top bits), as format.md §14
    /// defines it: origin + step · (the cell's first code + half its width), clamped to [0, 255]; exact in float32.
    /// </summary>
    public float Cell(int cell, int planes)
    {
        var dropped = PlaneCoder.Planes - planes;
        var middle = (cell << dropped) + ((1 << dropped) * 0.5f);
        return Math.Clamp(Origin + (Step * middle), 0f, 255f);
    }

    internal byte CodeOf(double pixel) => (byte)Math.Clamp((int)Math.Floor((pixel - Origin) * 128 / (64 + StepCode)), 0, 255);
}
