using DatasetQuant.Core.Datasets;

namespace DatasetQuant.Training.Tests;

/// <summary>
/// Grey 16×16 images of the kind `eng/data/grey-waves.py` writes (docs/results.md, "A set its reference learns poorly"):
/// ten classes, each a horizontal sine of 1–4 periods times a vertical cosine of 1–3 with random phases, Gaussian noise
/// of σ 40, and every <c>flatEvery</c>-th image flat at a random grey whatever its label, which no model can classify.
/// </summary>
internal static class WaveImages
{
    public static ImageDataset Create(int count, int seed, int flatEvery, int side = 16)
    {
        var random = new Random(seed);
        var pixels = new byte[count * side * side];
        var labels = new int[count];
        for (var i = 0; i < count; i++)
        {
            var c = random.Next(10);
            labels[i] = c;
            var flat = flatEvery > 0 && i % flatEvery == 0;
            var grey = random.NextDouble() * 255;
            var periods = 1 + (c % 4);
            var p = random.NextDouble() * 6;
            var q = random.NextDouble() * 6;
            var image = pixels.AsSpan(i * side * side, side * side);
            for (var y = 0; y < side; y++)
            {
                var vertical = Math.Cos(((c / 4) + 1) * y / (side - 1.0) * 2 + q);
                for (var x = 0; x < side; x++)
                {
                    var v = flat ? grey : 128 + (60 * Math.Sin((periods * x / (side - 1.0) * 3) + p) * vertical) + (40 * Gaussian(random));
                    image[(y * side) + x] = (byte)Math.Clamp((int)v, 0, 255);
                }
            }
        }

        return new ImageDataset($"waves-{count}", 1, side, side, 10, pixels, labels);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
