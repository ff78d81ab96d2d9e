namespace DatasetQuant.Core.Quantization.Planes;

/// <summary>
/// One sample's threshold grid for <see cref="PlaneCoder"/>: 256 cells of <see cref="Step"/> from <see cref="Origin"/>
/// (pixel scale 0–255), placed so that the first plane splits the sample at its two-means threshold (the best 1-bit
/// split) and the 256 cells cover its range. With k planes a pixel is known to a cell of 2^(8−k) steps and is
/// reconstructed at the cell's middle: the grid is nested, so k planes are a prefix of k + 1.
/// </summary>
public readonly record struct PlaneGrid(double Origin, double Step)
{
    public static PlaneGrid Fit(ReadOnlySpan<byte> pixels)
    {
        double min = 255, max = 0, sum = 0;
        foreach (var v in pixels)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
            sum += v;
        }

        var threshold = sum / pixels.Length;
        for (var iteration = 0; iteration < 10; iteration++)
        {
            double low = 0, high = 0;
            int lowCount = 0, highCount = 0;
            foreach (var v in pixels)
            {
                if (v < threshold)
                {
                    low += v;
                    lowCount++;
                }
                else
                {
                    high += v;
                    highCount++;
                }
            }

            if (lowCount == 0 || highCount == 0)
            {
                break;
            }

            threshold = ((low / lowCount) + (high / highCount)) / 2;
        }

        var step = Math.Max(Math.Max(threshold - min, max - threshold) / 128, 0.5);
        return new PlaneGrid(threshold - (128 * step), step);
    }

    public void Encode(ReadOnlySpan<byte> pixels, Span<byte> codes)
    {
        for (var p = 0; p < pixels.Length; p++)
        {
            codes[p] = (byte)Math.Clamp((int)Math.Floor((pixels[p] - Origin) / Step), 0, 255);
        }
    }

    /// <summary>A pixel's value when its code's top <paramref name="planes"/> bits are known (1..8).</summary>
    public double Reconstruct(byte code, int planes)
    {
        var dropped = PlaneCoder.Planes - planes;
        var cell = (code >> dropped) << dropped;
        return Math.Clamp(Origin + (Step * (cell + ((1 << dropped) / 2.0))), 0, 255);
    }
}
