using System.CommandLine;
using System.Diagnostics;
using DatasetQuant.Onnx;

namespace DatasetQuant.Cli.Commands;

/// <summary>
/// <c>dq onnx bench MODEL</c>: repeated runs of a one-float-input model on bound buffers, reporting the median batch
/// time, images/s and the binding overhead (wall time per batch ÷ time inside the native Run). Every session option
/// that changes speed is explicit, so that eng/bench/onnx-vs-node.js can give onnxruntime-node the same ones. With
/// <c>--serve</c> the loaded, warmed-up session waits for "run K" lines on standard input and answers each with the
/// K batch times (wall clock, then the process's CPU time), so that a driver can alternate the C# and Node sessions
/// batch by batch. CPU time per batch is the cost that other processes' load disturbs least on a shared machine.
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
        var serve = new Option<bool>("--serve") { Description = "After warm-up, answer 'run K' lines on stdin with K batch times in ms" };
        var command = new Command("bench", "Time a model on bound buffers: median batch time, images/s, binding overhead.")
        {
            model, batch, threads, iterations, warmup, arena, pattern, spinning, serve,
        };
        command.SetAction(parse => OnnxCommandErrors.Run(() =>
        {
            var n = parse.GetValue(batch);
            var runs = parse.GetValue(iterations);
            var threadCount = parse.GetValue(threads);
            if (n <= 0 || runs <= 0 || threadCount <= 0 || parse.GetValue(warmup) < 0)
            {
                throw new ArgumentException("--batch, --threads and --iterations must be positive, --warmup not negative.");
            }

            // The options onnxruntime-node is given too (ort-node-bench.js, onnx-vs-node.js): nothing left to defaults.
            var options = new OnnxSessionOptions
            {
                IntraOpThreads = threadCount, InterOpThreads = 1, ParallelExecution = false, OptimizationLevel = OnnxGraphOptimization.All,
                CpuArena = parse.GetValue(arena), MemoryPattern = parse.GetValue(pattern),
                ConfigEntries = new Dictionary<string, string> { ["session.intra_op.allow_spinning"] = parse.GetValue(spinning) ? "1" : "0" },
            };
            using var session = OnnxSession.Load(parse.GetValue(model)!, options);
            using var bench = BoundBench.Create(session, n);
            bench.Run(parse.GetValue(warmup));
            var header = $"model {Path.GetFileName(session.Source)} batch {n} threads {threadCount} arena {Flag(options.CpuArena)} " +
                $"mem-pattern {Flag(options.MemoryPattern)} spinning {Flag(parse.GetValue(spinning))} execution sequential optimization all";
            return parse.GetValue(serve) ? Serve(bench, header) : Report(bench, header, runs);
        }));
        return command;
    }

    internal static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static int Report(BoundBench bench, string header, int runs)
    {
        var wall = new double[runs];
        var inside = new double[runs];
        var cpu = new double[runs];
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        bench.Time(wall, inside, cpu);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        var medianWall = Median(wall);
        Console.WriteLine(header + $" runs {runs}");
        Console.WriteLine($"median batch {OnnxCommand.Format(medianWall, "F3")} ms, {OnnxCommand.Format(bench.Batch * 1000 / medianWall, "F1")} images/s");
        Console.WriteLine($"median process CPU time per batch {OnnxCommand.Format(Median(cpu), "F3")} ms");
        Console.WriteLine($"binding overhead {OnnxCommand.Format(wall.Sum() / inside.Sum(), "F4")} (wall / inside Run), managed bytes allocated while timing: {allocated}");
        return 0;
    }

    private static int Serve(BoundBench bench, string header)
    {
        Console.WriteLine("ready " + header);
        double wallTotal = 0, insideTotal = 0;
        long allocated = 0;
        while (Console.ReadLine() is { } line && line.StartsWith("run ", StringComparison.Ordinal))
        {
            if (!int.TryParse(line.AsSpan(4), out var count) || count <= 0 || count > 100_000)
            {
                throw new ArgumentException($"bench --serve expects 'run K' with 1 ≤ K ≤ 100000, got '{line}'.");
            }

            var wall = new double[count];
            var inside = new double[count];
            var cpu = new double[count];
            var before = GC.GetAllocatedBytesForCurrentThread();
            bench.Time(wall, inside, cpu);
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            wallTotal += wall.Sum();
            insideTotal += inside.Sum();
            Console.WriteLine("ms " + string.Join(' ', wall.Select(w => OnnxCommand.Format(w, "F4"))) +
                " cpu " + string.Join(' ', cpu.Select(c => OnnxCommand.Format(c, "F4"))));
        }

        Console.WriteLine($"binding overhead {OnnxCommand.Format(insideTotal > 0 ? wallTotal / insideTotal : 1, "F4")} (wall / inside Run), managed bytes allocated while timing: {allocated}");
        return 0;
    }

    private static string Flag(bool on) => on ? "on" : "off";

    /// <summary>One session with its first input and output bound once to pinned buffers; timing allocates nothing.</summary>
    private sealed class BoundBench : IDisposable
    {
        private readonly OnnxSession _session;
        private readonly OnnxBinding _binding;

        private BoundBench(OnnxSession session, OnnxBinding binding, int batch)
        {
            _session = session;
            _binding = binding;
            Batch = batch;
        }

        public int Batch { get; }

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

            return new BoundBench(session, session.CreateBinding().BindInput(input.Name, x, inShape).BindOutput(output.Name, y, outShape), batch);
        }

        /// <summary>
        /// Values in [-1,1) from a 32-bit LCG, each exact in float32, so that ort-node-options.js feeds onnxruntime-node
        /// the very same input (kernel speed can depend on the data, e.g. through denormals).
        /// </summary>
        private static void FillInput(Span<float> x)
        {
            var state = 1u;
            for (var i = 0; i < x.Length; i++)
            {
                state = unchecked(state * 1664525u + 1013904223u);
                x[i] = (state >> 8) / 16777216f * 2 - 1;
            }
        }

        public void Run(int count)
        {
            for (var i = 0; i < count; i++)
            {
                _binding.Run();
            }
        }

        /// <summary>
        /// Times one batch per slot: wall clock around Run, the session's own time inside the native Run, and the
        /// CPU time of the whole process (every ONNX Runtime thread, and the runtime's own) during the batch.
        /// </summary>
        public void Time(Span<double> wall, Span<double> inside, Span<double> cpu)
        {
            for (var i = 0; i < wall.Length; i++)
            {
                var before = _session.TimeInRun;
                var cpuBefore = Environment.CpuUsage.TotalTime;
                var start = Stopwatch.GetTimestamp();
                _binding.Run();
                wall[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                cpu[i] = (Environment.CpuUsage.TotalTime - cpuBefore).TotalMilliseconds;
                inside[i] = (_session.TimeInRun - before).TotalMilliseconds;
            }
        }

        public void Dispose() => _binding.Dispose();

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
