using System.Text.Json;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Testing;

namespace DatasetQuant.Cli.Tests;

/// <summary>quantize → inspect → verify → decode → requantize on real Fashion-MNIST through the real dq.</summary>
public sealed class DataCommandTests
{
    [Fact]
    public async Task Quantize_inspect_verify_decode_and_requantize_a_real_dataset()
    {
        using var dir = new TempDirectory("dq-cli");
        var shards = Path.Combine(dir.Path, "shards");
        var images = TestData.FashionMnist("t10k-images-idx3-ubyte.gz");
        var labels = TestData.FashionMnist("t10k-labels-idx1-ubyte.gz");

        var quantize = await DqProcess.RunAsync("quantize", "--input", $"idx:{images},{labels}", "--budget", "2bpp", "--allocator", "uniform",
            "--out", shards, "--shard-size", "1MiB");
        Assert.True(quantize.ExitCode == 0, quantize.StdErr + quantize.StdOut);

        var inspect = await DqProcess.RunAsync("inspect", shards, "--json");
        Assert.True(inspect.ExitCode == 0, inspect.StdErr);
        using var json = JsonDocument.Parse(inspect.StdOut);
        var shardsJson = json.RootElement.EnumerateArray().ToList();
        Assert.True(shardsJson.Count >= 2, "2bpp of 10,000 samples is about 2 MB: more than one 1 MiB shard");
        Assert.Equal(10000, shardsJson.Sum(s => s.GetProperty("sourceSamples").GetInt32()));
        var payload = shardsJson.Sum(s => s.GetProperty("payloadBytes").GetInt64());
        Assert.InRange(payload * 8.0 / (10000 * 784), 1.9, 2.0);
        Assert.All(shardsJson, s => Assert.Matches("^[0-9a-f]{64}$", s.GetProperty("sha256").GetString()!));
        Assert.All(shardsJson, s => Assert.True(s.GetProperty("bytes").GetInt64() <= 1 << 20));
        Assert.All(shardsJson, s => Assert.Equal((2, 0), (s.GetProperty("version").GetInt32(), s.GetProperty("versionMinor").GetInt32())));
        // 2.0's index: a label byte, a binary16 scale, a shift, a width nibble per sample, a CRC32C per 64 samples.
        Assert.All(shardsJson, s => Assert.InRange(s.GetProperty("indexBytesPerSample").GetDouble(), 4.5625, 4.6));
        Assert.Equal(shardsJson.Sum(s => s.GetProperty("bytes").GetInt64()),
            shardsJson.Sum(s => s.GetProperty("payloadBytes").GetInt64() + s.GetProperty("indexBytes").GetInt64() + 64 + 8 + 4 + 24));

        var verify = await DqProcess.RunAsync("verify", shards);
        Assert.True(verify.ExitCode == 0, verify.StdErr + verify.StdOut);

        var x = Path.Combine(dir.Path, "x.npy");
        var y = Path.Combine(dir.Path, "y.npy");
        var decode = await DqProcess.RunAsync("decode", shards, "--out", x, "--labels", y, "--dtype", "uint8");
        Assert.True(decode.ExitCode == 0, decode.StdErr);
        var decoded = NpyReader.Read(x);
        var decodedLabels = NpyReader.Read(y).ToInt64();
        var stored = shardsJson.Sum(s => s.GetProperty("samples").GetInt32());
        Assert.Equal([stored, 1, 28, 28], decoded.Shape);
        Assert.Equal(stored, decodedLabels.Length);
        // Uniform 2bpp keeps every sample, in order, and the pictures: mean absolute error far below the range.
        var original = DatasetSource.Load($"idx:{images},{labels}");
        Assert.Equal(10000, stored);
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(original.Label(i), decodedLabels[i]);
            var pixels = original.Pixels(i);
            var error = 0.0;
            for (var p = 0; p < 784; p++)
            {
                error += Math.Abs(decoded.Data[i * 784 + p] - pixels[p]);
            }

            Assert.True(error / 784 < 40, $"sample {i}: mean absolute error {error / 784}");
        }

        var smaller = Path.Combine(dir.Path, "smaller");
        var requantize = await DqProcess.RunAsync("requantize", shards, "--budget", "1bpp", "--out", smaller);
        Assert.True(requantize.ExitCode == 0, requantize.StdErr);
        var inspectSmaller = await DqProcess.RunAsync("inspect", smaller, "--json");
        using var smallerJson = JsonDocument.Parse(inspectSmaller.StdOut);
        var smallerPayload = smallerJson.RootElement.EnumerateArray().Sum(s => s.GetProperty("payloadBytes").GetInt64());
        Assert.True(smallerPayload <= 10000 * 784 / 8, $"{smallerPayload} bytes exceed 1bpp");
        Assert.Equal(0, (await DqProcess.RunAsync("verify", smaller)).ExitCode);
    }

    [Fact]
    public async Task Bench_decode_reports_each_width_beside_both_baselines()
    {
        using var dir = new TempDirectory("dq-cli");
        var images = TestData.FashionMnist("t10k-images-idx3-ubyte.gz");
        var labels = TestData.FashionMnist("t10k-labels-idx1-ubyte.gz");
        var shards = Path.Combine(dir.Path, "shards");
        Assert.Equal(0, (await DqProcess.RunAsync("quantize", "--input", $"idx:{images},{labels}", "--budget", "2.5bpp", "--allocator", "uniform", "--out", shards)).ExitCode);

        var bench = await DqProcess.RunAsync("bench", "decode", shards, "--samples", "64");

        Assert.True(bench.ExitCode == 0, bench.StdErr);
        Assert.Contains("memcpy", bench.StdOut, StringComparison.Ordinal);
        Assert.Contains("uint8->float32", bench.StdOut, StringComparison.Ordinal);
        // Uniform 2.5bpp stores widths 2 and 3 only.
        Assert.Matches(@"decode 2-bit\s+64\s+\d+", bench.StdOut);
        Assert.Matches(@"decode 3-bit\s+64\s+\d+", bench.StdOut);
        Assert.DoesNotContain("decode 4-bit", bench.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_names_the_damaged_file_and_sample()
    {
        using var dir = new TempDirectory("dq-cli");
        var shards = Path.Combine(dir.Path, "shards");
        var images = TestData.FashionMnist("t10k-images-idx3-ubyte.gz");
        var labels = TestData.FashionMnist("t10k-labels-idx1-ubyte.gz");
        var quantize = await DqProcess.RunAsync("quantize", "--input", $"idx:{images},{labels}", "--budget", "300KiB", "--allocator", "uniform", "--out", shards);
        Assert.Equal(0, quantize.ExitCode);
        var shard = Directory.GetFiles(shards, "*.dqs").Single();
        var bytes = File.ReadAllBytes(shard);
        bytes[^1000] ^= 0x10;
        File.WriteAllBytes(shard, bytes);

        var verify = await DqProcess.RunAsync("verify", shards);

        Assert.Equal(1, verify.ExitCode);
        Assert.Contains(Path.GetFileName(shard), verify.StdErr, StringComparison.Ordinal);
        Assert.Matches("sample [0-9]+, payload", verify.StdErr);
    }

    [Fact]
    public async Task Embedded_codes_write_the_increment_order_and_a_byte_budget_bounds_the_files()
    {
        using var dir = new TempDirectory("dq-cli");
        var shards = Path.Combine(dir.Path, "shards");
        var quantize = await DqProcess.RunAsync("quantize", "--input", "fashion-mnist:test", "--budget", "300KiB", "--codes", "embedded",
            "--out", shards, "--shard-size", "100KiB");
        Assert.True(quantize.ExitCode == 0, quantize.StdErr + quantize.StdOut);

        var order = DatasetQuant.Core.Quantization.IncrementOrder.Read(Path.Combine(shards, "fashion-mnist-test.dqo"));
        Assert.Equal(10000, order.SampleCount);
        var files = Directory.GetFiles(shards, "*.dqs");
        Assert.True(files.Length >= 3, $"{files.Length} shards of at most 100 KiB");
        Assert.InRange(files.Sum(f => new FileInfo(f).Length), 300 * 1024 - 2000, 300 * 1024);

        var inspect = await DqProcess.RunAsync("inspect", shards);
        Assert.True(inspect.ExitCode == 0, inspect.StdErr);
        Assert.Matches("bpp payload, [0-9.]+ bpp in files", inspect.StdOut);
    }

    [Fact]
    public async Task Bad_input_is_one_clear_line_not_a_stack_trace()
    {
        using var dir = new TempDirectory("dq-cli");
        var bogus = Path.Combine(dir.Path, "bogus.dqs");
        await File.WriteAllTextAsync(bogus, "not a shard at all, but long enough to hold a fixed header of sixty-four bytes....");

        var inspect = await DqProcess.RunAsync("inspect", bogus);
        var quantize = await DqProcess.RunAsync("quantize", "--input", "idx:/nonexistent.gz,/nope.gz", "--budget", "1bpp", "--out", dir.Path);
        var budget = await DqProcess.RunAsync("quantize", "--input", "fashion-mnist", "--budget", "lots", "--out", dir.Path);
        var tooSmall = await DqProcess.RunAsync("quantize", "--input", "fashion-mnist:test", "--budget", "10B", "--out", dir.Path);

        Assert.Equal(2, inspect.ExitCode);
        Assert.Contains("bogus.dqs: header.magic", inspect.StdErr, StringComparison.Ordinal);
        Assert.Equal(2, quantize.ExitCode);
        Assert.Contains("/nonexistent.gz", quantize.StdErr, StringComparison.Ordinal);
        Assert.Equal(2, budget.ExitCode);
        Assert.Contains("budget 'lots'", budget.StdErr, StringComparison.Ordinal);
        Assert.Equal(2, tooSmall.ExitCode);
        Assert.StartsWith("error: a budget of 10 bytes does not cover the headers", tooSmall.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", tooSmall.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", inspect.StdErr + quantize.StdErr + budget.StdErr + tooSmall.StdErr, StringComparison.Ordinal);
    }
}
