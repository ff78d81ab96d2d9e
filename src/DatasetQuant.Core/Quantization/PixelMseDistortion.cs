namespace DatasetQuant.Core.Quantization;

/// <summary>The default D_i(b): mean squared pixel error on the 0–255 scale, as the pipeline already measured it.</summary>
public sealed class PixelMseDistortion : IDistortionMeasure
{
    public static PixelMseDistortion Instance { get; } = new();

    public string Name => "pixel-mse";

    public int BatchSize => 1024;

    public void Measure(DistortionBatch batch, Span<double> distortion) => batch.PixelMse.CopyTo(distortion);
}
