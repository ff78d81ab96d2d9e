using DatasetQuant.Testing;
using DatasetQuant.Training.Checkpoints;
using DatasetQuant.Training.Data;
using DatasetQuant.Training.Model;
using DatasetQuant.Training.Training;

namespace DatasetQuant.Training.Tests;

public sealed class MlpTrainerTests
{
    [Fact]
    public void One_short_epoch_on_real_fashion_mnist_beats_chance_by_far()
    {
        var train = FashionMnist.TrainSubset(12_000);
        var test = FashionMnist.TestSubset(2_000);
        var model = MlpModel.CreateRandom(MlpShape.Default, seed: 7);
        using var trainer = new MlpTrainer(model, new TrainingOptions { Epochs = 2, BatchSize = 64, LearningRate = 0.05f, Seed = 7 });
        var result = trainer.Train(train);
        var accuracy = Evaluation.Accuracy(model, test);

        // Chance is 0.10 and a linear model reaches ~0.80 after this much data; a broken gradient cannot get here.
        Assert.True(accuracy >= 0.80, $"accuracy {accuracy:F4} after 2 epochs over 12,000 samples");
        Assert.True(result.Epochs[1].MeanLoss < result.Epochs[0].MeanLoss, "the loss did not fall from epoch 1 to epoch 2");
    }

    [Fact]
    public void Steps_allocate_nothing_after_warm_up()
    {
        var shape = MlpShape.Default;
        var model = MlpModel.CreateRandom(shape, seed: 1);
        using var trainer = new MlpTrainer(model, new TrainingOptions { BatchSize = 64, Parallelism = 2 });
        var random = new Random(1);
        var samples = SgemmTests.Fill(random, 64 * 784);
        var labels = Enumerable.Range(0, 64).Select(i => i % 10).ToArray();
        for (var i = 0; i < 3; i++)
        {
            trainer.Step(samples, labels, 64, 0.01f);
            trainer.Step(samples, labels, 37, 0.01f); // a short last batch too
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 20; i++)
        {
            trainer.Step(samples, labels, 64, 0.01f);
            trainer.Step(samples, labels, 37, 0.01f);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void A_run_killed_mid_way_resumes_to_the_same_parameters_as_an_uninterrupted_run()
    {
        using var temp = new TempDirectory("dq-train");
        var data = FashionMnist.TrainSubset(3_000);
        var options = new TrainingOptions { Epochs = 3, BatchSize = 100, Seed = 5, Parallelism = 2 };

        var straight = MlpModel.CreateRandom(MlpShape.Default, seed: 5);
        using (var trainer = new MlpTrainer(straight, options))
        {
            trainer.Train(data);
        }

        var checkpoint = temp.File("run.dqck");
        var withCheckpoints = new TrainingOptions { Epochs = 3, BatchSize = 100, Seed = 5, Parallelism = 2, CheckpointPath = checkpoint, CheckpointEverySteps = 7 };
        var interrupted = MlpModel.CreateRandom(MlpShape.Default, seed: 5);
        using (var cancel = new CancellationTokenSource())
        using (var trainer = new MlpTrainer(interrupted, withCheckpoints with { ProgressEverySteps = 1 }))
        {
            // Stop in the middle of epoch 2, between two checkpoints, as a kill would.
            Assert.Throws<OperationCanceledException>(() => trainer.Train(data, p =>
            {
                if (p.Step >= 45)
                {
                    cancel.Cancel();
                }
            }, cancel.Token));
        }

        var saved = CheckpointReader.Read(checkpoint);
        Assert.Equal(1, saved.CompletedEpochs);
        Assert.Equal(12, saved.NextBatch); // step 42 = epoch 2, batch 12

        var resumed = MlpModel.CreateRandom(MlpShape.Default, seed: 999); // overwritten by the checkpoint
        using (var trainer = new MlpTrainer(resumed, withCheckpoints with { }))
        {
            var result = trainer.Train(data);
            Assert.Equal(1, result.ResumedFromEpoch);
            Assert.Equal(12, result.ResumedFromBatch);
        }

        Assert.Equal(straight.Parameters, resumed.Parameters);
    }

    [Fact]
    public void A_NaN_loss_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint()
    {
        using var temp = new TempDirectory("dq-train");
        var checkpoint = temp.File("run.dqck");
        var samples = SgemmTests.Fill(new Random(3), 200 * 16);
        var labels = Enumerable.Range(0, 200).Select(i => i % 4).ToArray();
        samples[57 * 16] = float.NaN; // whichever batch draws sample 57 produces a NaN loss
        var model = MlpModel.CreateRandom(new MlpShape(16, 8, 4), 2);
        using var trainer = new MlpTrainer(model, new TrainingOptions { Epochs = 3, BatchSize = 20, Seed = 2, CheckpointPath = checkpoint, CheckpointEverySteps = 1 });

        var ex = Assert.Throws<TrainingDivergedException>(() => trainer.Train(new InMemoryDataSource(samples, labels, 16, 4)));

        Assert.Contains("the loss became NaN", ex.Message);
        Assert.Contains($"the last good checkpoint '{checkpoint}' is kept", ex.Message);
        var kept = CheckpointReader.Read(checkpoint);
        Assert.Equal(0, kept.CompletedEpochs);
        Assert.Contains($"training diverged at epoch 1, batch {kept.NextBatch + 1} ", ex.Message);
        Assert.True(kept.NextBatch > 0, "the seed put sample 57 into the first batch; pick another");
        Assert.All(kept.Model.Parameters, p => Assert.True(float.IsFinite(p)));
        Assert.All(model.Parameters, p => Assert.True(float.IsFinite(p)));
        Assert.Equal(kept.Model.Parameters, model.Parameters);
    }

    [Fact]
    public void Data_of_another_shape_than_the_model_is_refused_by_name()
    {
        var model = MlpModel.CreateRandom(MlpShape.Default, 1);
        using var trainer = new MlpTrainer(model, new TrainingOptions { Epochs = 1 });
        var cifarLike = new InMemoryDataSource(new float[2 * 3072], [0, 1], 3072, 10, "cifar.dqs");
        var ex = Assert.Throws<InvalidDataException>(() => trainer.Train(cifarLike));
        Assert.Equal("cifar.dqs: samples have 3072 values, the model 784-256-10 takes 784.", ex.Message);

        var fewerClasses = new InMemoryDataSource(new float[2 * 784], [0, 1], 784, 5, "five.dqs");
        ex = Assert.Throws<InvalidDataException>(() => trainer.Train(fewerClasses));
        Assert.Equal("five.dqs: 5 classes, the model 784-256-10 predicts 10.", ex.Message);
    }
}
