using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.IO;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Onnx;
using DatasetQuant.Onnx.Generators;

namespace DatasetQuant.Cli.Commands;

/// <summary>
/// <c>dq sample</c>: draw N class-balanced samples from a generator into float32 .npy ([N,C,H,W], labels beside as
/// X.labels.npy) or into a .dqs shard at a chosen width. Prints throughput, the binding overhead and peak RSS.
/// </summary>
internal static class SampleCommand
{
    public static Command Create()
    {
        var generator = new Option<string>("--generator") { Description = "G.onnx (with G.json beside it)", Required = true };
        var count = new Option<int>("--count") { Description = "Samples to draw", Required = true };
        var output = new Option<string>("--out") { Description = "X.npy (float32 [N,C,H,W]) or X.dqs (quantized shard)", Required = true };
        var bits = new Option<int>("--bits") { Description = "Bit width of every sample in a .dqs output (1..8)", DefaultValueFactory = _ => 8 };
        var seed = new Option<ulong>("--seed") { Description = "Seed: the same seed gives the same samples", DefaultValueFactory = _ => 0UL };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0 = one per core)", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch") { Description = "Samples per run", DefaultValueFactory = _ => 64 };
        var scale = new Option<string>("--scale") { Description = "npy values: unit ([0,1] pixels), normalized (dataset mean/std) or raw", DefaultValueFactory = _ => "unit" };
        scale.AcceptOnlyFromAmong("unit", "normalized", "raw");
        var arena = new Option<string>("--arena") { Description = "ONNX Runtime CPU arena on|off", DefaultValueFactory = _ => "on" };
        arena.AcceptOnlyFromAmong("on", "off");
        var provider = new Option<string>("--provider") { Description = "Execution provider (cpu, cuda, tensorrt); falls back to CPU", DefaultValueFactory = _ => "cpu" };
        var weights = new Option<string?>("--weights") { Description = "Relative class weights, comma-separated (default: balanced)" };
        var command = new Command("sample", "Draw class-conditional samples from a generator into .npy or a .dqs shard.")
        {
            generator, count, output, bits, seed, threads, batch, scale, arena, provider, weights,
        };
        command.SetAction(parse => OnnxCommandErrors.Run(() =>
        {
            var n = parse.GetValue(count);
            var path = parse.GetValue(output)!;
            var isDqs = path.EndsWith(".dqs", StringComparison.OrdinalIgnoreCase);
            if (!isDqs && !path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"--out '{path}' must end in .npy or .dqs.");
            }

            if (n <= 0 || parse.GetValue(batch) <= 0 || parse.GetValue(threads) < 0 || parse.GetValue(bits) is < 1 or > 8)
            {
                throw new ArgumentException("--count and --batch must be positive, --threads 0 or more, --bits 1..8.");
            }

            var options = new GeneratorSamplerOptions
            {
                Seed = parse.GetValue(seed),
                BatchSize = parse.GetValue(batch),
                ClassWeights = ParseWeights(parse.GetValue(weights)),
                Output = isDqs ? GeneratorOutputScale.UnitRange : parse.GetValue(scale) switch
                {
                    "normalized" => GeneratorOutputScale.Normalized,
                    "raw" => GeneratorOutputScale.Raw,
                    _ => GeneratorOutputScale.UnitRange,
                },
                Session = new OnnxSessionOptions
                {
                    IntraOpThreads = parse.GetValue(threads),
                    InterOpThreads = 1,
                    CpuArena = parse.GetValue(arena) == "on",
                    ExecutionProvider = parse.GetValue(provider)!,
                },
            };
            var clock = Stopwatch.StartNew();
            using var sampler = GeneratorSampler.Open(parse.GetValue(generator)!, options);
            var loaded = clock.Elapsed;
            var m = sampler.Manifest;
            if (isDqs)
            {
                WriteShard(sampler, n, path, parse.GetValue(bits));
            }
            else
            {
                WriteNpy(sampler, n, path);
            }

            var total = clock.Elapsed - loaded;
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine(string.Create(inv, $"{n} samples of {m.Channels}x{m.Height}x{m.Width} from {m.Kind} generator ({m.Dataset}) on {sampler.Session.ExecutionProvider}, batch {sampler.BatchSize}"));
            Console.WriteLine(string.Create(inv, $"load {loaded.TotalMilliseconds:F0} ms, sampling+writing {total.TotalSeconds:F3} s, {n / total.TotalSeconds:F1} images/s"));
            Console.WriteLine(string.Create(inv, $"peak RSS {PeakRssMiB():F1} MiB"));
            Console.WriteLine(path);
            return 0;
        }));
        return command;
    }

    private static void WriteNpy(GeneratorSampler sampler, int count, string path)
    {
        var m = sampler.Manifest;
        var chunk = sampler.BatchSize;
        var pixels = new float[chunk * sampler.SampleSize];
        var labels = new int[chunk];
        var allLabels = new long[count];
        using (var writer = NpyWriter.Create(path, NpyDType.Float32, count, m.Channels, m.Height, m.Width))
        {
            for (var start = 0; start < count; start += chunk)
            {
                var k = Math.Min(chunk, count - start);
                sampler.Sample(pixels.AsSpan(0, k * sampler.SampleSize), labels.AsSpan(0, k));
                writer.Append(pixels.AsSpan(0, k * sampler.SampleSize));
                for (var i = 0; i < k; i++)
                {
                    allLabels[start + i] = labels[i];
                }
            }

            writer.Commit();
        }

        NpyWriter.Write(LabelsPath(path), allLabels, count);
    }

    private static void WriteShard(GeneratorSampler sampler, int count, string path, int bits)
    {
        var m = sampler.Manifest;
        var pixels = new float[(long)count * sampler.SampleSize];
        var labels = new int[count];
        sampler.Sample(pixels, labels);
        var set = new FloatSampleSet(string.IsNullOrEmpty(m.Dataset) ? "generated" : m.Dataset + "-generated", m.Channels, m.Height, m.Width, m.ClassCount, pixels, labels);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var prefix = $".{Path.GetFileNameWithoutExtension(path)}.{Environment.ProcessId}";
        var result = DatasetQuantizer.Quantize(set, new QuantizeOptions
        {
            Budget = Budget.FromBitsPerPixel(bits),
            Allocator = new UniformAllocator(),
            OutputDirectory = directory,
            ShardPrefix = prefix,
            ShardSizeBytes = long.MaxValue / 4,
        });
        var shard = result.ShardPaths.Single();
        File.Move(shard, path, overwrite: true);
        AtomicFileWriter.SyncDirectory(directory);
    }

    internal static string LabelsPath(string npyPath) => Path.ChangeExtension(npyPath, null) + ".labels.npy";

    private static double[]? ParseWeights(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return text.Split(',').Select(s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new FormatException($"--weights: '{s}' is not a number.")).ToArray();
    }

    private static double PeakRssMiB()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return double.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
            }
        }

        return double.NaN;
    }
}
