using System.Buffers.Binary;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Testing;
using DatasetQuant.Training.Checkpoints;
using DatasetQuant.Training.Data;
using DatasetQuant.Training.Model;
using DatasetQuant.Training.Training;

namespace DatasetQuant.Training.Tests;

/// <summary>
/// Mutants of a real mid-run checkpoint (<c>.dqck</c>, the layout in CheckpointConstants), half with the trailing CRC-32C
/// recomputed, read and resumed as <c>dq train</c> resumes a killed run. Each must resume or be refused with an
/// <see cref="InvalidDataException"/> naming the file and the field at fault (or saying that it belongs to another
/// run), allocating no more than about the file; a resumed run must train to its planned end.
/// </summary>
public sealed class CheckpointMutationTests : IDisposable
{
    private const int Mutants = 1500;

    private static readonly MlpShape Shape = new(12, 7, 3);

    private readonly TempDirectory _dir = new("dqck-mutants");

    public void Dispose() => _dir.Dispose();

    private static TrainingOptions Options(string path) =>
        new() { Epochs = 3, BatchSize = 8, CheckpointPath = path, CheckpointEverySteps = 2, ProgressEverySteps = 1, Parallelism = 1, WarmupSteps = 0 };

    /// <summary>24 samples of a small synthetic problem (the class is which third of the features is largest).</summary>
    private static InMemoryDataSource Data()
    {
        var random = new Random(5);
        var samples = SgemmTests.Fill(random, 24 * 12);
        var labels = Enumerable.Range(0, 24).Select(i => Enumerable.Range(0, 3).MaxBy(c => samples.AsSpan((i * 12) + (c * 4), 4).ToArray().Sum())).ToArray();
        return new InMemoryDataSource(samples, labels, 12, 3, "synthetic");
    }

    /// <summary>The checkpoint a run killed in its second epoch leaves: written by the trainer at step 4 (epoch 1, batch 1).</summary>
    private byte[] MidRunCheckpoint()
    {
        var path = _dir.File("run.dqck");
        using var cancel = new CancellationTokenSource();
        using var trainer = new MlpTrainer(MlpModel.CreateRandom(Shape, 3), Options(path));
        Assert.ThrowsAny<OperationCanceledException>(() => trainer.Train(Data(), p =>
        {
            if (p.Step == 4)
            {
                cancel.Cancel();
            }
        }, cancel.Token));
        var checkpoint = CheckpointReader.Read(path);
        Assert.Equal((1, 1, 4L), (checkpoint.CompletedEpochs, checkpoint.NextBatch, checkpoint.Step));
        return File.ReadAllBytes(path);
    }

    private static byte[] ResealTrailingChecksum(byte[] file)
    {
        if (file.Length >= 4)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(file.Length - 4), Crc32C.Compute(file.AsSpan(0, file.Length - 4)));
        }

        return file;
    }

    /// <summary>The reader's error (or the trainer's on resuming), naming the file and a field of the layout.</summary>
    internal static bool NamesFileAndField(Exception error, string path) =>
        error is InvalidDataException && (error.Message.StartsWith($"checkpoint '{path}' belongs to another run: ", StringComparison.Ordinal)
            || CheckpointFields.Any(field => error.Message.StartsWith($"checkpoint '{path}' is corrupt: {field} ", StringComparison.Ordinal)));

    /// <summary>
    /// A resumed run that diverged, naming the checkpoint it kept. A parameter of, say, −5·10²⁶ is a float the format
    /// holds and no reader can call damaged; training from it may diverge, which the trainer reports as it would any
    /// divergence.
    /// </summary>
    private static bool DivergedFrom(Exception error, string path) =>
        error is TrainingDivergedException && error.Message.Contains($"'{path}'", StringComparison.Ordinal);

    /// <summary>The fields of the layout as errors name them.</summary>
    private static readonly string[] CheckpointFields =
    [
        "length", "magic", "version", "layerSizeCount", "completedEpochs", "nextBatch", "step", "batchSize", "plannedEpochs",
        "samplesPerEpoch", "parameterCount", "layerSizes", "parameters", "velocity", "CRC-32C",
    ];

    [Fact]
    public void Every_mutant_resumes_to_the_planned_end_or_is_refused_naming_the_file_and_field()
    {
        var original = MidRunCheckpoint();
        var path = _dir.File("mutant.dqck");
        var data = Data();
        var reads = new MutantReads(".dqck");
        // The fixed header (48 bytes), then the layer sizes and the first parameters.
        int[] hot = [48, 48 + 12 + 32];
        foreach (var mutant in ByteMutations.Series(seed: 48, Mutants, original, hot, ResealTrailingChecksum))
        {
            File.WriteAllBytes(path, mutant.Bytes);
            reads.Run(mutant, () =>
            {
                _ = CheckpointReader.Read(path);
                using var trainer = new MlpTrainer(MlpModel.CreateRandom(Shape, 3), Options(path));
                trainer.Train(data);
                var last = CheckpointReader.Read(path);
                if ((last.CompletedEpochs, last.NextBatch, last.Step) != (3, 0, 9))
                {
                    reads.Fail(mutant, $"resumed, the run ended at epoch {last.CompletedEpochs}, batch {last.NextBatch}, step {last.Step} instead of 3, 0, 9.");
                }
            }, error => NamesFileAndField(error, path) || DivergedFrom(error, path), maxAllocatedBytes: (1 << 20) + (16L * original.Length));
        }

        reads.AssertClean(least: 5);
    }

    [Theory]
    // Found by the mutants, each read as valid before: a run that "ended" at once past its planned epochs; a batch
    // index past the epoch's end (an ArgumentOutOfRangeException in the trainer); a step the learning-rate schedule
    // would have followed silently; a NaN weight the trainer then blamed on the learning rate.
    [InlineData("completedEpochs", 16, 4097)]
    [InlineData("completedEpochs", 16, -1)]
    [InlineData("nextBatch", 20, 3)]
    [InlineData("nextBatch", 20, int.MaxValue)]
    [InlineData("step", 24, 5)]
    [InlineData("batchSize", 32, 0)]
    [InlineData("parameters", 48 + 12 + 40, float.NaN)]
    [InlineData("velocity", 48 + 12 + (4 * 115) + 8, float.PositiveInfinity)]
    // Found by reading the reader: layer sizes each in range whose weights overflow an int escaped as an OverflowException.
    [InlineData("layerSizes", 48, 1 << 20)]
    public void A_field_the_trainer_cannot_have_written_is_refused_by_name_under_a_valid_checksum(string field, int offset, float value)
    {
        var bytes = MidRunCheckpoint();
        if (field is "parameters" or "velocity")
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(offset), value);
        }
        else if (field == "layerSizes")
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(offset), (int)value);
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(offset + 4), (int)value);
        }
        else
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(offset), (int)value);
        }

        var path = _dir.File("lying.dqck");
        File.WriteAllBytes(path, ResealTrailingChecksum(bytes));
        var error = Assert.Throws<InvalidDataException>(() => CheckpointReader.Read(path));
        Assert.StartsWith($"checkpoint '{path}' is corrupt: {field} ", error.Message, StringComparison.Ordinal);
    }
}
