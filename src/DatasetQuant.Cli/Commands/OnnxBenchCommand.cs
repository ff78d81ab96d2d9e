using System.CommandLine;
using System.Diagnostics;
using DatasetQuant.Onnx;

namespace DatasetQuant.Cli.Commands;

/// <summary>
/// <c>dq onnx bench MODEL</c>: repeated runs of a one-float-input model on bound buffers, reporting the median batch
/// time, images/s and the binding overhead (wall time per batch ÷ time inside the native Run). Node's
/// onnxruntime-node script in eng/bench times the same model, batch and threads for comparison.
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
        var command = new Command("bench", "Time a model on bound buffers: median batch time, images/s, binding overhead.")
        {
            model, batch, threads, iterations, warmup,
        };
        command.SetAction(parse => OnnxCommandErrors.Run(() =>
        {
            var n = parse.GetValue(batch);
            var runs = parse.GetValue(iterations);
            if (n <= 0 || runs <= 0 || parse.GetValue(threads) <= 0)
            {
                throw new ArgumentException("--batch, --threads and --iterations must be positive.");
            }

            using var session = OnnxSession.Load(parse.GetValue(model)!, new OnnxSessionOptions { IntraOpThreads = parse.GetValue(threads), InterOpThreads = 1 });
            var input = session.Inputs[0];
            var output = session.Outputs[0];
            if (input.ElementType != OnnxElementType.Float || output.ElementType != OnnxElementType.Float)
            {
                throw new ArgumentException($"bench needs a float32 first input and output; the model has {input} and {output}.");
            }

            var inShape = Concrete(input.Shape, n);
            var outShape = Concrete(output.Shape, n);
            var x = new float[OnnxTensor.ElementCountOf(inShape)];
            var y = new float[OnnxTensor.ElementCountOf(outShape)];
            var random = new Random(1);
            for (var i = 0; i < x.Length; i++)
            {
                x[i] = (float)(random.NextDouble() * 2 - 1);
            }

            using var binding = session.CreateBinding().BindInput(input.Name, x, inShape).BindOutput(output.Name, y, outShape);
            for (var i = 0; i < parse.GetValue(warmup); i++)
            {
                binding.Run();
            }

            var wall = new double[runs];
            var inside = new double[runs];
            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < runs; i++)
            {
                var before = session.TimeInRun;
                var start = Stopwatch.GetTimestamp();
                binding.Run();
                wall[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                inside[i] = (session.TimeInRun - before).TotalMilliseconds;
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            var medianWall = Median(wall);
            Console.WriteLine($"model {Path.GetFileName(session.Source)} batch {n} threads {parse.GetValue(threads)} runs {runs}");
            Console.WriteLine($"median batch {OnnxCommand.Format(medianWall, "F3")} ms, {OnnxCommand.Format(n * 1000 / medianWall, "F1")} images/s");
            Console.WriteLine($"binding overhead {OnnxCommand.Format(wall.Sum() / inside.Sum(), "F4")} (wall / inside Run), managed bytes allocated while timing: {allocated}");
            return 0;
        }));
        return command;
    }

    internal static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
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
