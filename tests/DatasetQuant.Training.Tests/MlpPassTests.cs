using DatasetQuant.Training.Model;

namespace DatasetQuant.Training.Tests;

[Trait("Category", "Simd")]
public sealed class MlpPassTests
{
    [Fact]
    public void Backward_matches_central_finite_differences()
    {
        var shape = new MlpShape(9, 7, 5, 3);
        var model = MlpModel.CreateRandom(shape, seed: 3);
        var random = new Random(11);
        for (var l = 0; l < shape.LayerCount; l++)
        {
            // Non-zero biases so every term of the gradient is exercised.
            var bias = model.Bias(l);
            for (var i = 0; i < bias.Length; i++)
            {
                bias[i] = (float)(random.NextDouble() - 0.5) * 0.2f;
            }
        }

        const int batch = 4;
        var inputs = SgemmTests.Fill(random, batch * shape.InputSize);
        int[] labels = [0, 2, 1, 2];
        var pass = new MlpPass(shape, batch);
        var gradients = new float[shape.ParameterCount];
        pass.ForwardBackward(model, inputs, labels, batch, gradients);

        var scratch = new float[shape.ParameterCount];
        const float h = 1e-2f;
        var checkedCount = 0;
        for (var p = 0; p < shape.ParameterCount; p++)
        {
            var original = model.Parameters[p];
            model.Parameters[p] = original + h;
            var plus = pass.ForwardBackward(model, inputs, labels, batch, scratch);
            model.Parameters[p] = original - h;
            var minus = pass.ForwardBackward(model, inputs, labels, batch, scratch);
            model.Parameters[p] = original;
            var numeric = (plus - minus) / (2 * h);
            Assert.True(Math.Abs(numeric - gradients[p]) <= 2e-3 + (0.02 * Math.Abs(numeric)),
                $"parameter {p}: analytic {gradients[p]}, numeric {numeric}");
            checkedCount++;
        }

        Assert.Equal(shape.ParameterCount, checkedCount);
        Assert.Contains(gradients, g => Math.Abs(g) > 1e-3);
    }

    [Fact]
    public void Loss_of_a_fresh_model_is_near_log_of_class_count()
    {
        var shape = new MlpShape(20, 16, 10);
        var model = MlpModel.CreateRandom(shape, seed: 1);
        Array.Clear(model.Parameters, shape.WeightOffset(1), shape.WeightCount(1)); // uniform output
        var pass = new MlpPass(shape, 8);
        var loss = pass.ForwardBackward(model, SgemmTests.Fill(new Random(2), 8 * 20), new int[8], 8, new float[shape.ParameterCount]);
        Assert.Equal(MathF.Log(10), loss, 4);
    }

    [Fact]
    public void Rejects_labels_outside_the_classes()
    {
        var shape = new MlpShape(4, 3);
        var pass = new MlpPass(shape, 2);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            pass.ForwardBackward(MlpModel.CreateRandom(shape, 1), new float[8], [0, 3], 2, new float[shape.ParameterCount]));
        Assert.Contains("label 3 of sample 1 is outside 0..2", ex.Message);
    }
}
