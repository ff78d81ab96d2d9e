using System.Globalization;

namespace DatasetQuant.Core.Quantization;

/// <summary>
/// A payload budget: either bits per pixel averaged over every sample of the input (dropped ones included), e.g.
/// <c>2bpp</c>, or a byte count, e.g. <c>12MiB</c>, <c>500kB</c>, <c>123456</c>. Header, index and footer bytes are
/// overhead on top of it (docs/format.md states how much).
/// </summary>
public readonly record struct Budget
{
    private Budget(double bitsPerPixel, long bytes)
    {
        BitsPerPixel = bitsPerPixel;
        Bytes = bytes;
    }

    /// <summary>Set when the budget is in bits per pixel, otherwise 0.</summary>
    public double BitsPerPixel { get; }

    /// <summary>Set when the budget is in bytes, otherwise 0.</summary>
    public long Bytes { get; }

    public bool IsBitsPerPixel => BitsPerPixel > 0;

    public static Budget FromBitsPerPixel(double bpp)
    {
        if (!(bpp > 0 && bpp <= SampleQuantizer.MaxBits))
        {
            throw new ArgumentOutOfRangeException(nameof(bpp), bpp, "bits per pixel must be in (0, 8].");
        }

        return new Budget(bpp, 0);
    }

    public static Budget FromBytes(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        return new Budget(0, bytes);
    }

    /// <summary>Payload bytes this budget allows for <paramref name="samples"/> samples of <paramref name="pixelsPerSample"/> pixels.</summary>
    public long PayloadBytes(long samples, int pixelsPerSample) =>
        IsBitsPerPixel ? (long)Math.Floor(BitsPerPixel * samples * pixelsPerSample / 8.0) : Bytes;

    public static Budget Parse(string text)
    {
        if (!TryParse(text, out var budget, out var error))
        {
            throw new FormatException(error);
        }

        return budget;
    }

    public static bool TryParse(string text, out Budget budget, out string error)
    {
        budget = default;
        var t = text.Trim();
        var units = new (string Suffix, double Factor)[]
        {
            ("bpp", 0), ("KiB", 1024), ("MiB", 1024 * 1024), ("GiB", 1024d * 1024 * 1024),
            ("kB", 1000), ("KB", 1000), ("MB", 1e6), ("GB", 1e9), ("B", 1),
        };
        foreach (var (suffix, factor) in units)
        {
            if (!t.EndsWith(suffix, StringComparison.Ordinal))
            {
                continue;
            }

            if (!double.TryParse(t[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !(value > 0) || double.IsInfinity(value))
            {
                error = $"budget '{text}': '{t[..^suffix.Length]}' is not a positive number.";
                return false;
            }

            if (factor == 0)
            {
                if (value > SampleQuantizer.MaxBits)
                {
                    error = $"budget '{text}': at most 8bpp.";
                    return false;
                }

                budget = new Budget(value, 0);
            }
            else
            {
                budget = new Budget(0, Math.Max(1, (long)(value * factor)));
            }

            error = string.Empty;
            return true;
        }

        if (long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) && bytes > 0)
        {
            budget = new Budget(0, bytes);
            error = string.Empty;
            return true;
        }

        error = $"budget '{text}' is neither bits per pixel (e.g. 2bpp) nor a size (e.g. 12MiB, 500kB, 123456).";
        return false;
    }

    public override string ToString() => IsBitsPerPixel
        ? string.Create(CultureInfo.InvariantCulture, $"{BitsPerPixel}bpp")
        : string.Create(CultureInfo.InvariantCulture, $"{Bytes}B");
}
