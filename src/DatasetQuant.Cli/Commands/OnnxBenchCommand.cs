using System.CommandLine;
using System.Diagnostics;
using DatasetQuant.Onnx;

namespace DatasetQuant.Cli.Commands;

/// <summary>
/// <c>dq onnx bench MODEL</c>: repeated runs of a one-float-input model on bound buffers, reporting the median batch
/// time, images/s, the managed bytes allocated while timing, and the API overhead: wall time around each bound Run
/// over the time ONNX Runtime itself spent inside Run (the <c>model_run</c> events of its profiler). Profiling adds
/// its own per-node cost inside Run; <c>--overhead false</c> times without it.
/// </summary>
internal static class OnnxBenchCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "The .onnx file (first input float32 [N,...])" };
        var batch = new Option<int>("--batch") { Description = "Batch size (dimension 0)", DefaultValueFactory = _ => 16 };
        var threads = new Option<int>("--threads") { Description = "Intra-op threads", DefaultValueFactory = _ => 1 };
        var iterations = new Option<int>("--iterations") { Description = "Timed batches", DefaultValueFactory = _ => 20 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed batches first", DefaultValueFactory = _ => 3 };
        var arena = new Option<bool>("--arena") { Description = "CPU memory arena", DefaultValueFactory = _ => true };
        var pattern = new Option<bool>("--mem-pattern") { Description = "Memory pattern planning", DefaultValueFactory = _ => true };
        var spinning = new Option<bool>("--spinning") { Description = "Intra-op threads spin between ops (session.intra_op.allow_spinning)", DefaultValueFactory = _ => true };
        var overhead = new Option<bool>("--overhead") { Description = "Profile the session to measure the time inside Run (API overhead)", DefaultValueFactory = _ => true };
        var command = new Command("bench", "Time a model on bound buffers: median batch time, images/s, API overhead, managed allocation.")
        {
            model, batch, threads, iterations, warmup, arena, pattern, spinning, overhead,
        };
        command.SetAction(parse => OnnxCommandErrors.Run(() =>
        {
            var n = parse.GetValue(batch);
            var runs = parse.GetValue(iterations);
            var threadCount = parse.GetValue(threads);
            var warmupRuns = parse.GetValue(warmup);
            if (n <= 0 || runs <= 0 || threadCount <= 0 || warmupRuns < 0)
            {
                throw new ArgumentException("--batch, --threads and --iterations must be positive, --warmup not negative.");
            }

            var profilePrefix = parse.GetValue(overhead) ? Path.Combine(Path.GetTempPath(), $"dq-onnx-bench-{Environment.ProcessId}") : null;
            var options = new OnnxSessionOptions
            {
                IntraOpThreads = threadCount, InterOpThreads = 1, ParallelExecution = false, OptimizationLevel = OnnxGraphOptimization.All,
                CpuArena = parse.GetValue(arena), MemoryPattern = parse.GetValue(pattern), ProfilePrefix = profilePrefix,
                ConfigEntries = new Dictionary<string, string> { ["session.intra_op.allow_spinning"] = parse.GetValue(spinning) ? "1" : "0" },
            };
            using var session = OnnxSession.Load(parse.GetValue(model)!, options);
            using var bench = BoundBench.Create(session, n);
            bench.Run(warmupRuns);

            var wall = new double[runs];
            var cpu = new double[runs];
            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            bench.Time(wall, cpu);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

            var medianWall = Median(wall);
            Console.WriteLine($"model {Path.GetFileName(session.Source)} batch {n} threads {threadCount} arena {Flag(options.CpuArena)} " +
                $"mem-pattern {Flag(options.MemoryPattern)} spinning {Flag(parse.GetValue(spinning))} execution sequential optimization all " +
                $"profiled {Flag(profilePrefix is not null)} runs {runs}");
            Console.WriteLine($"median batch {OnnxCommand.Format(medianWall, "F3")} ms, {OnnxCommand.Format(n * 1000 / medianWall, "F1")} images/s");
            Console.WriteLine($"median process CPU time per batch {OnnxCommand.Format(Median(cpu), "F3")} ms");
            Console.WriteLine($"managed bytes allocated while timing: {allocated}");
            if (profilePrefix is not null)
            {
                var inside = OnnxProfile.LastModelRuns(session.EndProfiling(), runs);
                var extra = new double[runs];
                for (var i = 0; i < runs; i++)
                {
                    extra[i] = (wall[i] - inside[i]) * 1000;
                }

                Console.WriteLine($"API overhead {OnnxCommand.Format(wall.Sum() / inside.Sum(), "F4")} (wall / inside Run), " +
                    $"median {OnnxCommand.Format(Median(extra), "F1")} µs per run outside Run");
            }

            return 0;
        }));
        return command;
    }

    internal static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Flag(bool on) => on ? "on" : "off";

    /// <summary>One session with its first input and output bound once to pinned buffers; timing allocates nothing.</summary>
    private sealed class BoundBench : IDisposable
    {
        private readonly OnnxBinding _binding;

        private BoundBench(OnnxBinding binding) => _binding = binding;

        public static BoundBench Create(OnnxSession session, int batch)
        {
            var input = session.Inputs[0];
            var output = session.Outputs[0];
            if (input.ElementType != OnnxElementType.Float || output.ElementType != OnnxElementType.Float)
            {
                throw new ArgumentException($"bench needs a float32 first input and output; the model has {input} and {output}.");
            }

            var inShape = Concrete(input.Shape, batch);
            var outShape = Concrete(output.Shape, batch);
            var x = new float[OnnxTensor.ElementCountOf(inShape)];
            var y = new float[OnnxTensor.ElementCountOf(outShape)];
            FillInput(x);
            return new BoundBench(session.CreateBinding().BindInput(input.Name, x, inShape).BindOutput(output.Name, y, outShape));
        }

        public void Run(int count)
        {
            for (var i = 0; i < count; i++)
            {
                _binding.Run();
            }
        }

        /// <summary>Times one batch per slot: wall clock around Run, and the CPU time of the whole process during it.</summary>
        public void Time(Span<double> wall, Span<double> cpu)
        {
            for (var i = 0; i < wall.Length; i++)
            {
                var cpuBefore = Environment.CpuUsage.TotalTime;
                var start = Stopwatch.GetTimestamp();
                _binding.Run();
                wall[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                cpu[i] = (Environment.CpuUsage.TotalTime - cpuBefore).TotalMilliseconds;
            }
        }

        public void Dispose() => _binding.Dispose();

        /// <summary>Values in [-1,1) from a 32-bit LCG, each exact in float32: the same input on every run and machine.</summary>
        private static void FillInput(Span<float> x)
        {
            var state = 1u;
            for (var i = 0; i < x.Length; i++)
            {
                state = unchecked(state * 1664525u + 1013904223u);
                x[i] = (state >> 8) / 16777216f * 2 - 1;
            }
        }

        private static long[] Concrete(long[] shape, int batch)
        {
            var result = (long[])shape.Clone();
            for (var i = 0; i < result.Length; i++)
            {
                if (result[i] < 0)
                {
                    if (i != 0)
                    {
                        throw new ArgumentException($"Dimension {i} of [{string.Join(",", shape)}] is symbolic; bench only fills the batch dimension.");
                    }

                    result[i] = batch;
                }
            }

            return result;
        }
    }
}
