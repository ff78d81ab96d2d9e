using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Core.Quantization.Planes;
using DatasetQuant.Testing;

namespace DatasetQuant.Core.Tests.Planes;

/// <summary>
/// Planes shards (codec 2, docs/format.md §14) as <c>dq quantize --codes planes</c> writes them from real Fashion-MNIST:
/// every kept sample decodes to its grid's cells at its plane count, budgets bound what they say, and the code beats
/// per-width refitting at the same file bytes.
/// </summary>
public sealed class PlaneShardTests : IDisposable
{
    private readonly TempDirectory _dir = new("dq-planes");

    public void Dispose() => _dir.Dispose();

    internal static QuantizeResult Quantize(ImageDataset data, string directory, string budget, long shardSize = 64L << 20, bool planes = true) =>
        DatasetQuantizer.Quantize(data, new QuantizeOptions
        {
            Budget = Budget.Parse(budget), OutputDirectory = directory, ShardPrefix = "p", PlaneCodes = planes, ShardSizeBytes = shardSize,
        });

    [Theory]
    [InlineData(1, "0.5bpp")]
    [InlineData(1, "2bpp")]
    [InlineData(3, "1bpp")]
    public void Every_kept_sample_decodes_to_its_grids_cells_at_its_plane_count(int channels, string budget)
    {
        var data = channels == 1 ? Samples.FashionMnistTest.Take(300) : Samples.ThreeChannels(Samples.FashionMnistTest.Take(120), classCount: 300);
        var result = Quantize(data, _dir.Path, budget);
        using var reader = DqsReader.Open(result.ShardPaths.Single());
        Assert.True(reader.IsPlanes);
        Assert.Equal(result.Bits.Count(k => k > 0), reader.Count);
        var (values, codes, decoded, unit) = (new float[data.PixelsPerSample], new byte[data.PixelsPerSample], new byte[data.PixelsPerSample], new float[data.PixelsPerSample]);
        // The shards number the samples by their first increment in the order: the kept ones first.
        var order = result.SampleOrder!;
        for (var stored = 0; stored < reader.Count; stored++)
        {
            var i = order[stored];
            Assert.True(result.Bits[i] > 0);
            data.ReadPixels(i, values);
            var grid = PlaneGrid.Fit(values);
            Assert.Equal(grid, reader.Grid(stored));
            Assert.Equal(result.Bits[i], reader.Planes(stored));
            Assert.Equal(data.Label(i), reader.Label(stored));
            grid.Encode(values, codes);
            reader.Decode(stored, decoded);
            reader.Decode(stored, unit, DqsNormalization.PixelScale(channels));
            for (var p = 0; p < codes.Length; p++)
            {
                var x = grid.Reconstruct(codes[p], result.Bits[i]);
                Assert.Equal(x, unit[p]);
                Assert.Equal((byte)MathF.Floor(x + 0.5f), decoded[p]);
            }
        }

        Assert.True(DqsVerifier.Verify(result.ShardPaths.Single()).IsValid);
    }

    [Theory]
    [InlineData("60kB")]
    [InlineData("200kB")]
    [InlineData("500kB")]
    public void A_size_bounds_the_files_headers_index_and_models_included(string budget)
    {
        var result = Quantize(Samples.FashionMnistTest.Take(2000), _dir.Path, budget, shardSize: 100_000);
        Assert.True(result.ShardPaths.Count > 1 || budget == "60kB");
        Assert.Equal(result.FileBytes, result.ShardPaths.Sum(p => new FileInfo(p).Length));
        Assert.InRange(result.FileBytes, 0.9 * Budget.Parse(budget).Bytes, Budget.Parse(budget).Bytes);
        foreach (var path in result.ShardPaths)
        {
            Assert.True(new FileInfo(path).Length <= 100_000, path);
        }
    }

    [Theory]
    [InlineData("0.5bpp")]
    [InlineData("2bpp")]
    public void At_the_same_file_bytes_planes_leave_less_pixel_mse_than_refitted_widths(string bpp)
    {
        var data = Samples.FashionMnistTest.Take(2000);
        var refit = Quantize(data, _dir.File("refit"), bpp, planes: false);
        var planes = Quantize(data, _dir.File("planes"), refit.FileBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(planes.FileBytes <= refit.FileBytes);
        Assert.True(planes.MeanSquaredError < 0.5 * refit.MeanSquaredError, $"planes {planes.MeanSquaredError}, refit {refit.MeanSquaredError}");
        Assert.Equal(planes.MeanSquaredError, MeasuredMse(data, planes), 6);
    }

    [Fact]
    public void A_bpp_budget_bounds_the_segments_and_their_lengths()
    {
        var data = Samples.FashionMnistTest.Take(500);
        var result = Quantize(data, _dir.Path, "1bpp");
        Assert.InRange(result.PayloadBytes, 0.95 * 500 * 784 / 8, 500 * 784 / 8);
        using var reader = DqsReader.Open(result.ShardPaths.Single());
        Span<int> lengths = stackalloc int[8];
        long payload = 0, varints = 0;
        for (var i = 0; i < reader.Count; i++)
        {
            reader.SegmentLengths(i, lengths);
            for (var k = 0; k < reader.Planes(i); k++)
            {
                payload += lengths[k];
                varints += Core.IO.Leb128.Size((uint)lengths[k]);
            }
        }

        Assert.Equal(reader.Header.PayloadLength, payload);
        Assert.Equal(result.PayloadBytes, payload + varints);
    }

    [Fact]
    public void Fixed_width_readers_refuse_a_planes_shard_naming_it_and_the_codec()
    {
        var result = Quantize(Samples.FashionMnistTest.Take(50), _dir.Path, "2bpp");
        using var reader = DqsReader.Open(result.ShardPaths.Single());
        var error = Assert.Throws<NotSupportedException>(() => reader.Record(0));
        Assert.Contains(result.ShardPaths.Single(), error.Message, StringComparison.Ordinal);
        Assert.Contains("codec 2", error.Message, StringComparison.Ordinal);
        Assert.Throws<NotSupportedException>(() => reader.ReadCodes(0, new byte[784]));
    }

    [Fact]
    public void A_model_measure_is_refused_with_planes()
    {
        var options = new QuantizeOptions
        {
            Budget = Budget.Parse("1bpp"), OutputDirectory = _dir.Path, PlaneCodes = true, DistortionMeasure = new CountingMeasure(),
        };
        var error = Assert.Throws<ArgumentException>(() => DatasetQuantizer.Quantize(Samples.FashionMnistTest.Take(20), options));
        Assert.Contains("--codes refit", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The pixel MSE of what the shards decode to, every input sample counted (dropped ones as the channel mean).</summary>
    private static double MeasuredMse(ImageDataset data, QuantizeResult result)
    {
        var statistics = ChannelStatistics.Compute(data);
        var (values, decoded) = (new float[data.PixelsPerSample], new float[data.PixelsPerSample]);
        var readers = result.ShardPaths.Select(p => DqsReader.Open(p)).ToList();
        try
        {
            double total = 0;
            int shard = 0, stored = 0;
            var order = result.SampleOrder!;
            for (var k = 0; k < data.Count; k++)
            {
                var i = order[k];
                data.ReadPixels(i, values);
                if (result.Bits[i] > 0)
                {
                    while (stored == readers[shard].Count)
                    {
                        (shard, stored) = (shard + 1, 0);
                    }

                    readers[shard].Decode(stored++, decoded, DqsNormalization.PixelScale(1));
                }
                else
                {
                    Array.Fill(decoded, statistics.Mean[0]);
                }

                total += values.Zip(decoded, (x, y) => (double)(x - y) * (x - y)).Sum() / values.Length;
            }

            return total / data.Count;
        }
        finally
        {
            readers.ForEach(r => r.Dispose());
        }
    }

    private sealed class CountingMeasure : IDistortionMeasure
    {
        public string Name => "counting";

        public int BatchSize => 8;

        public void Measure(DistortionBatch batch, Span<double> distortion) => distortion.Fill(1);
    }
}
