using DatasetQuant.Testing;
using DatasetQuant.Training.Checkpoints;
using DatasetQuant.Training.Data;
using DatasetQuant.Training.Model;
using DatasetQuant.Training.Training;

namespace DatasetQuant.Training.Tests;

public sealed class CheckpointTests
{
    /// <summary>A run of 10 epochs of 938 batches stopped at epoch 3, batch 17: step 3·938 + 17.</summary>
    private static TrainingCheckpoint Sample(MlpShape shape) =>
        new(MlpModel.CreateRandom(shape, 9), SgemmTests.Fill(new Random(2), shape.ParameterCount), 42, 3, 17, 2831, 64, 10, 60000);

    [Fact]
    public void Round_trips_every_field_and_leaves_no_temporary_file()
    {
        using var temp = new TempDirectory("dq-ckpt");
        var path = temp.File("a.dqck");
        var written = Sample(new MlpShape(12, 7, 3));
        CheckpointWriter.Write(path, written);
        var read = CheckpointReader.Read(path);
        Assert.Equal(written.Model.Parameters, read.Model.Parameters);
        Assert.Equal(written.Velocity, read.Velocity);
        Assert.Equal((42L, 3, 17, 2831L, 64, 10, 60000), (read.Seed, read.CompletedEpochs, read.NextBatch, read.Step, read.BatchSize, read.PlannedEpochs, read.SamplesPerEpoch));
        Assert.Equal("12-7-3", read.Model.Shape.ToString());
        Assert.Equal(["a.dqck"], Directory.GetFiles(temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void A_flipped_byte_is_a_crc_error_naming_the_file()
    {
        using var temp = new TempDirectory("dq-ckpt");
        var path = temp.File("a.dqck");
        CheckpointWriter.Write(path, Sample(new MlpShape(12, 7, 3)));
        var bytes = File.ReadAllBytes(path);
        bytes[200] ^= 0x10;
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<InvalidDataException>(() => CheckpointReader.Read(path));
        Assert.StartsWith($"checkpoint '{path}' is corrupt: CRC-32C is 0x", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_file_or_a_lying_header_is_refused_before_allocating()
    {
        using var temp = new TempDirectory("dq-ckpt");
        var path = temp.File("a.dqck");
        CheckpointWriter.Write(path, Sample(new MlpShape(12, 7, 3)));
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^10]);
        var ex = Assert.Throws<InvalidDataException>(() => CheckpointReader.Read(path));
        Assert.Contains("the header promises", ex.Message);

        // A header claiming two billion parameters must not make the reader try to allocate them.
        BitConverter.GetBytes(int.MaxValue).CopyTo(bytes, 44);
        File.WriteAllBytes(path, bytes);
        ex = Assert.Throws<InvalidDataException>(() => CheckpointReader.Read(path));
        Assert.Contains("is corrupt", ex.Message);

        File.WriteAllBytes(path, "not a checkpoint at all, just text of some length that is longer than a header"u8.ToArray());
        ex = Assert.Throws<InvalidDataException>(() => CheckpointReader.Read(path));
        Assert.Contains("is not a DatasetQuant checkpoint", ex.Message);
    }

    [Fact]
    public void Resuming_with_a_checkpoint_of_another_model_says_so()
    {
        using var temp = new TempDirectory("dq-ckpt");
        var path = temp.File("a.dqck");
        CheckpointWriter.Write(path, Sample(new MlpShape(12, 7, 3)));
        var data = new InMemoryDataSource(new float[20 * 12], new int[20], 12, 3);
        using var trainer = new MlpTrainer(MlpModel.CreateRandom(new MlpShape(12, 5, 3), 1), new TrainingOptions { Epochs = 1, CheckpointPath = path });
        var ex = Assert.Throws<InvalidDataException>(() => trainer.Train(data));
        Assert.Equal($"checkpoint '{path}' belongs to another run: its model is 12-7-3, this run trains 12-5-3. Use another checkpoint path or delete it.", ex.Message);
    }
}
