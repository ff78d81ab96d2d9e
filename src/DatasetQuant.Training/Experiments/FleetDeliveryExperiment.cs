using System.Globalization;
using System.Text;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Progressive;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Training.Data;
using DatasetQuant.Training.Evaluation;
using DatasetQuant.Training.Model;
using DatasetQuant.Training.Training;

namespace DatasetQuant.Training.Experiments;

/// <summary>One device budget of <see cref="FleetDeliveryExperiment"/>.</summary>
public sealed record FleetDeliveryRow(
    double BitsPerPixel, long BudgetBytes, int Layers, long Received, long Kept, double DeviceMse, long CoordinatorBytes, double CoordinatorMse,
    double SameCodeMse, IReadOnlyList<double> DeviceAccuracy, IReadOnlyList<double> CoordinatorAccuracy, IReadOnlyList<double> SameCodeAccuracy);

/// <summary>One step of a budget sequence: what moved over the network and what the device holds after it.</summary>
public sealed record FleetSequenceStep(double BitsPerPixel, long BudgetBytes, long Received, long HeldBytes, int Increments);

/// <summary>
/// Progressive delivery measured without a broker (the bytes are the layer files a device pulls; chunk frames add 40 +
/// name bytes per 128 KiB): the coordinator quantizes the training set once with embedded codes at 8 bpp and cuts its
/// increment order into layers; each device's budget is the file size <c>dq quantize --budget {bpp}bpp</c> writes
/// (per-width refitted codes, adaptive, class coverage), and the device takes the layers that fit. Reported per budget:
/// bytes received and kept, the held copy's pixel MSE beside the coordinator-side quantize at the same file budget
/// (refitted and embedded), and, when seeds are asked for, both trained and evaluated as in the budget sweep. With the
/// layers cut at the budgets, the copy held at each is also served whole (<see cref="LayerPrefixes"/>), as the
/// coordinator serves it, and a device takes it where that costs fewer bytes than the layers. With <c>planes</c> the
/// coordinator's set is range-coded planes (<c>--codes planes</c>, layers of version 4) and the "embedded" column is
/// <c>dq quantize --codes planes</c> at the same bytes.
/// </summary>
public static class FleetDeliveryExperiment
{
    public static (IReadOnlyList<FleetDeliveryRow> Rows, IReadOnlyList<FleetSequenceStep> Sequence) Run(ImageDataset train, ImageDataset? test,
        IReadOnlyList<double> budgets, IReadOnlyList<double> sequence, IReadOnlyList<long> quotas, int seeds, int epochs, long minimumLayerBytes, bool cutAtBudgets,
        string work, Action<string> log, bool planes = false)
    {
        var pixels = train.PixelsPerSample;
        var n = train.Count;
        var statistics = ChannelStatistics.Compute(train);
        var full = DatasetQuantizer.Quantize(train, new QuantizeOptions
        {
            Budget = Budget.FromBitsPerPixel(8), OutputDirectory = Path.Combine(work, "coordinator"), ShardPrefix = "data", EmbeddedCodes = !planes, PlaneCodes = planes,
        });
        var order = IncrementOrder.Read(Path.Combine(work, "coordinator", "data.dqo"));
        // Each device's budget is the file size of the refitted quantize at its bits per pixel.
        var coordinators = budgets.Select(bpp => DatasetQuantizer.Quantize(train, new QuantizeOptions
        {
            Budget = Budget.FromBitsPerPixel(bpp), OutputDirectory = Path.Combine(work, Invariant($"refit-{bpp}")), ShardPrefix = "data",
        })).ToList();
        var sequenceBudgets = sequence.Select(bpp => SequenceBudget(bpp, n, pixels)).ToList();
        // As the coordinator does with the budgets it has assigned (LayerCutPoints), or only by growth.
        IEnumerable<long> cuts = cutAtBudgets ? [.. coordinators.Select(c => c.FileBytes), .. quotas, .. sequenceBudgets] : [];
        var layers = LayerBuilder.Build(full.ShardPaths, order, Path.Combine(work, "layers"), "data", minimumLayerBytes, cutAtHeldBytes: cuts);
        var prefixes = LayerPrefixes.Write(layers, LayerPrefixes.CountsAt(layers, cuts), Path.Combine(work, "layers"), "data");
        log(Invariant($"published: {full.FileBytes} bytes at 8 bpp, {order.Increments.Count} increments in {layers.Count} layers of {layers.Sum(l => l.Bytes)} bytes{(cutAtBudgets ? $", cut at the devices' budgets, {prefixes.Count} prefixes served whole" : string.Empty)}"));
        // The held copy's pixel MSE by input sample's width (bits of the embedded code, or planes).
        Func<byte[], double> heldMse;
        if (planes)
        {
            var table = Core.Quantization.Planes.PlaneTable.Measure(train, statistics, Environment.ProcessorCount, null, default);
            heldMse = widths => table.MeanSquaredError(widths);
        }
        else
        {
            var table = DistortionTable.Measure(train, statistics, PixelMseDistortion.Instance, 6, Environment.ProcessorCount, null, default, embeddedCodes: true);
            heldMse = widths => table.MeanSquaredError(widths);
        }

        var rows = new List<FleetDeliveryRow>();
        foreach (var (bpp, coordinator) in budgets.Zip(coordinators))
        {
            var budget = coordinator.FileBytes;
            var embedded = DatasetQuantizer.Quantize(train, new QuantizeOptions
            {
                Budget = Budget.FromBytes(budget), OutputDirectory = Path.Combine(work, Invariant($"embedded-{bpp}")), ShardPrefix = "data",
                EmbeddedCodes = !planes, PlaneCodes = planes,
            });
            var device = NewDevice(Path.Combine(work, Invariant($"device-{bpp}")));
            var count = LayerBuilder.LayersWithin(layers, budget);
            var received = Pull(ref device, layers, prefixes, count);
            var widths = InputWidths(order, device.IncrementCount, full.SampleOrder);
            var deviceAccuracy = new List<double>();
            var coordinatorAccuracy = new List<double>();
            var embeddedAccuracy = new List<double>();
            for (var seed = 1; seed <= seeds && test is not null; seed++)
            {
                deviceAccuracy.Add(TrainAndEvaluate([device.ShardPath], train, test, seed, epochs, Path.Combine(device.Directory, $"seed{seed}.onnx")));
                coordinatorAccuracy.Add(TrainAndEvaluate(coordinator.ShardPaths, train, test, seed, epochs, Path.Combine(work, Invariant($"refit-{bpp}"), $"seed{seed}.onnx")));
                // The same codes as the device's, chosen for this budget alone: separates the codes from the prefix's choice of samples.
                embeddedAccuracy.Add(TrainAndEvaluate(embedded.ShardPaths, train, test, seed, epochs, Path.Combine(work, Invariant($"embedded-{bpp}"), $"seed{seed}.onnx")));
            }

            var row = new FleetDeliveryRow(bpp, budget, count, received, device.HeldBytes, heldMse(widths), coordinator.FileBytes,
                coordinator.MeanSquaredError, embedded.MeanSquaredError, deviceAccuracy, coordinatorAccuracy, embeddedAccuracy);
            log(Invariant($"{bpp} bpp: budget {budget}, device received {received} kept {row.Kept} ({(double)received / row.Kept:F3}x; held increments {new FileInfo(device.HeldPath).Length}), MSE device {Mse(row.DeviceMse)} refit {Mse(row.CoordinatorMse)} same code {Mse(row.SameCodeMse)}"));
            rows.Add(row);
        }

        foreach (var quota in quotas)
        {
            var device = NewDevice(Path.Combine(work, Invariant($"device-quota-{quota}")));
            var received = Pull(ref device, layers, prefixes, LayerBuilder.LayersWithin(layers, quota));
            var widths = InputWidths(order, device.IncrementCount, full.SampleOrder);
            log(Invariant($"quota {quota}: received {received}, kept {device.HeldBytes}, held MSE {heldMse(widths):F1}, widths 0..8 {string.Join(' ', widths.CountBy(w => w).OrderBy(p => p.Key).Select(p => $"{p.Key}:{p.Value}"))}"));
        }

        var steps = new List<FleetSequenceStep>();
        var walker = NewDevice(Path.Combine(work, "device-sequence"));
        var held = 0;
        foreach (var (bpp, budget) in sequence.Zip(sequenceBudgets))
        {
            var target = LayerBuilder.LayersWithin(layers, budget);
            long received = 0;
            if (target > held)
            {
                received = Pull(ref walker, layers, prefixes, target);
            }
            else if (target < held)
            {
                walker.TruncateTo(target);
            }

            held = target;
            steps.Add(new FleetSequenceStep(bpp, budget, received, walker.HeldBytes, walker.IncrementCount));
            log(Invariant($"sequence {bpp} bpp: budget {budget}, received {received}, holds {walker.HeldBytes}"));
        }

        return (rows, steps);
    }

    /// <summary>The budget a coordinator would send for <paramref name="bpp"/> bits per pixel: the payload at that rate plus the index.</summary>
    private static long SequenceBudget(double bpp, int count, int pixels) => Budget.FromBitsPerPixel(bpp).PayloadBytes(count, pixels) + (16L * count) + 128;

    /// <summary>The widths of the order's first <paramref name="increments"/>, by input sample (the published set is numbered by first increment).</summary>
    private static byte[] InputWidths(IncrementOrder order, int increments, IReadOnlyList<int>? sampleOrder)
    {
        var numbered = new byte[order.SampleCount];
        order.WidthsAfter(increments, numbered);
        if (sampleOrder is null)
        {
            return numbered;
        }

        var widths = new byte[numbered.Length];
        for (var k = 0; k < numbered.Length; k++)
        {
            widths[sampleOrder[k]] = numbered[k];
        }

        return widths;
    }

    private static ProgressiveHoldings NewDevice(string directory)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.CreateDirectory(directory);
        return ProgressiveHoldings.Open(directory, "data");
    }

    /// <summary>Brings <paramref name="device"/> to <paramref name="to"/> layers as a device does: a prefix where it costs fewer bytes, then layers.</summary>
    private static long Pull(ref ProgressiveHoldings device, IReadOnlyList<LayerInfo> layers, IReadOnlyList<LayerPrefix> prefixes, int to)
    {
        long received = 0;
        var count = LayerPrefixes.Choose((from, end) => layers.Skip(from).Take(end - from).Sum(l => l.Bytes), prefixes.Select(p => (p.Layers, p.Bytes)), device.LayerCount, to);
        if (count > 0)
        {
            var prefix = prefixes.Single(p => p.Layers == count);
            File.Copy(prefix.ShardPath, device.ShardPath, overwrite: true);
            File.Copy(prefix.HeldPath, device.HeldPath, overwrite: true);
            device = ProgressiveHoldings.Open(device.Directory, device.Name);
            received += prefix.Bytes;
        }

        var chosen = layers.Skip(device.LayerCount).Take(to - device.LayerCount).ToList();
        device.Apply([.. chosen.Select(l => File.ReadAllBytes(l.Path))], [.. chosen.Select(l => l.Path)]);
        return received + chosen.Sum(l => l.Bytes);
    }

    private static double TrainAndEvaluate(IReadOnlyList<string> shards, ImageDataset train, ImageDataset test, int seed, int epochs, string modelPath)
    {
        var statistics = ChannelStatistics.Compute(train);
        var normalization = new InputNormalization(
            Array.ConvertAll(statistics.Mean, m => m / 255f), Array.ConvertAll(statistics.StandardDeviation, s => Math.Max(s / 255f, 1e-6f)));
        var model = MlpModel.CreateRandom(MlpShape.Parse($"{train.PixelsPerSample},256,{train.ClassCount}"), seed);
        using (var data = ShardDataSource.Open(shards, normalization))
        using (var trainer = new MlpTrainer(model, new TrainingOptions { Epochs = epochs, Schedule = Optimization.LearningRateScheduleKind.Cosine, Seed = seed }))
        {
            trainer.Train(data);
        }

        MlpOnnxExporter.Save(model, modelPath, normalization.ToMetadata());
        using var classifier = new OnnxClassifier(modelPath);
        return ClassifierEvaluator.Evaluate(classifier, new ImageDataSource(test, normalization)).Accuracy;
    }

    public static string Format(string name, IReadOnlyList<FleetDeliveryRow> rows, IReadOnlyList<FleetSequenceStep> sequence)
    {
        var text = new StringBuilder();
        text.AppendLine(name).AppendLine();
        text.AppendLine("| bpp | device budget (B) | layers | received (B) | kept (B) | received / kept | held MSE | refit MSE (quantize) | same code's MSE (quantize, same bytes) | held / refit | held / same code | held accuracy | refit accuracy | same code's accuracy |");
        text.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            text.AppendLine(Invariant($"| {r.BitsPerPixel} | {r.BudgetBytes:N0} | {r.Layers} | {r.Received:N0} | {r.Kept:N0} | {(double)r.Received / r.Kept:F3} | {Mse(r.DeviceMse)} | {Mse(r.CoordinatorMse)} | {Mse(r.SameCodeMse)} | {r.DeviceMse / r.CoordinatorMse:F3} | {r.DeviceMse / r.SameCodeMse:F3} | {Accuracy(r.DeviceAccuracy)} | {Accuracy(r.CoordinatorAccuracy)} | {Accuracy(r.SameCodeAccuracy)} |"));
        }

        text.AppendLine().AppendLine("| step | budget (B) | received (B) | held after (B) | increments held |").AppendLine("|---|---:|---:|---:|---:|");
        foreach (var s in sequence)
        {
            text.AppendLine(Invariant($"| {s.BitsPerPixel} bpp | {s.BudgetBytes:N0} | {s.Received:N0} | {s.HeldBytes:N0} | {s.Increments:N0} |"));
        }

        return text.ToString();
    }

    /// <summary>Four significant digits at most, so that the small distortions at high budgets still compare.</summary>
    private static string Mse(double value) => value.ToString(value >= 100 ? "F1" : value >= 1 ? "F3" : "F4", CultureInfo.InvariantCulture);

    private static string Accuracy(IReadOnlyList<double> values) => values.Count == 0
        ? "–"
        : Invariant($"{values.Average():F4} ({values.Min():F4}–{values.Max():F4})");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
