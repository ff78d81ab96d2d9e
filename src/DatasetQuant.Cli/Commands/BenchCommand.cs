using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using DatasetQuant.Core.Formats.Dqs;

namespace DatasetQuant.Cli.Commands;

/// <summary><c>dq bench decode</c>: decode speed per width, beside memcpy and a plain uint8→float32 conversion in the same run.</summary>
internal static class BenchCommand
{
    private const int Repetitions = 21;

    public static Command Create()
    {
        var bench = new Command("bench", "Measure dq's hot paths on this machine.");
        bench.Subcommands.Add(CreateDecode());
        return bench;
    }

    private static Command CreateDecode()
    {
        var paths = new Argument<string[]>("paths") { Description = "Shard files or folders of shards", Arity = ArgumentArity.OneOrMore };
        var batch = new Option<int>("--samples") { Description = "Samples decoded per timed pass (per width)", DefaultValueFactory = _ => 1024 };
        var command = new Command("decode", "Samples/s and GB/s of float32 output at each width present, beside memcpy and a plain uint8→float32 conversion.") { paths, batch };
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            // Each shard is read on its own (they need not form one set), so several quantizations can be compared.
            var readers = DqsShardSet.ExpandPaths(parse.GetValue(paths)!).Select(p => DqsReader.Open(p)).ToList();
            using var cleanup = new Disposables(readers);
            var pixels = readers[0].PixelsPerSample;
            if (readers.Any(r => r.PixelsPerSample != pixels || r.Header.Channels != readers[0].Header.Channels))
            {
                throw new ArgumentException("the shards have different sample shapes; bench them one shape at a time.");
            }

            var limit = Math.Max(1, parse.GetValue(batch));
            var byWidth = new List<(DqsReader Reader, int Sample)>[9];
            foreach (var reader in readers)
            {
                for (var i = 0; i < reader.Count; i++)
                {
                    (byWidth[reader.Bits(i)] ??= []).Add((reader, i));
                }
            }

            var normalization = DqsNormalization.FromHeader(readers[0].Header);
            var output = new float[(long)limit * pixels];
            var inv = CultureInfo.InvariantCulture;
            var candidates = new List<(string Name, int Count, Action Run)>();
            foreach (var width in Enumerable.Range(1, 8).Where(b => byWidth[b] is not null))
            {
                var samples = byWidth[width]!.Take(limit).ToArray();
                candidates.Add(($"decode {width}-bit", samples.Length, () =>
                {
                    for (var k = 0; k < samples.Length; k++)
                    {
                        samples[k].Reader.Decode(samples[k].Sample, output.AsSpan(k * pixels, pixels), normalization);
                    }
                }));
            }

            var baselineCount = candidates.Count == 0 ? limit : candidates.Max(c => c.Count);
            var source = new byte[(long)baselineCount * pixels];
            new Random(1).NextBytes(source);
            var copySource = new float[source.Length];
            candidates.Insert(0, ("uint8->float32", baselineCount, () => PlainConversion.ToSingle(source, output.AsSpan(0, source.Length), 1f / 255f)));
            candidates.Insert(0, ("memcpy (float32 size)", baselineCount, () => copySource.AsSpan().CopyTo(output)));
            var seconds = MedianInterleaved(candidates.Select(c => c.Run).ToList());
            var memcpyPerSample = seconds[0] / candidates[0].Count;
            var convertPerSample = seconds[1] / candidates[1].Count;
            Console.WriteLine($"decode path: {DqsSimdDecoder.Path}; {Environment.ProcessorCount} cores; load average {LoadAverage()}; median of {Repetitions} interleaved rounds; output float32 standardised");
            Console.WriteLine($"{"what",-22} {"samples",8} {"samples/s",12} {"GB/s out",9} {"vs convert",10} {"vs memcpy",10}");
            for (var k = 0; k < candidates.Count; k++)
            {
                Print(candidates[k].Name, candidates[k].Count, seconds[k], pixels, convertPerSample, memcpyPerSample, inv);
            }

            return 0;
        }));
        return command;
    }

    private static void Print(string name, int count, double seconds, int pixels, double convertPerSample, double memcpyPerSample, IFormatProvider inv)
    {
        var perSample = seconds / count;
        Console.WriteLine(string.Create(inv,
            $"{name,-22} {count,8} {count / seconds,12:F0} {count * (double)pixels * 4 / seconds / 1e9,9:F2} {convertPerSample / perSample,10:F2} {memcpyPerSample / perSample,10:F2}"));
    }

    // Ratios from a busy machine overstate or understate the decoder; the load goes beside them.
    private static string LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private sealed class Disposables(IEnumerable<IDisposable> items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var item in items)
            {
                item.Dispose();
            }
        }
    }

    /// <summary>
    /// Times every action once per round, round after round, and returns each one's median: on a shared machine the
    /// load then weighs on all of them alike, so their ratios hold even when absolute times drift.
    /// </summary>
    private static double[] MedianInterleaved(IReadOnlyList<Action> actions)
    {
        // Long enough for tiered compilation to replace every method on the path with its optimised code.
        foreach (var action in actions)
        {
            var warmup = Stopwatch.StartNew();
            while (warmup.Elapsed.TotalMilliseconds < 200)
            {
                action();
            }
        }

        var times = new double[actions.Count][];
        for (var k = 0; k < actions.Count; k++)
        {
            times[k] = new double[Repetitions];
        }

        for (var r = 0; r < Repetitions; r++)
        {
            for (var k = 0; k < actions.Count; k++)
            {
                var clock = Stopwatch.StartNew();
                var passes = 0;
                do
                {
                    actions[k]();
                    passes++;
                }
                while (clock.Elapsed.TotalMilliseconds < 20);

                times[k][r] = clock.Elapsed.TotalSeconds / passes;
            }
        }

        return times.Select(t =>
        {
            Array.Sort(t);
            return t[Repetitions / 2];
        }).ToArray();
    }
}
