using System.Numerics.Tensors;
using DatasetQuant.Training.Model;

namespace DatasetQuant.Training.Optimization;

/// <summary>
/// SGD with heavy-ball momentum and L2 weight decay on the weights (not the biases), in the form PyTorch uses:
/// v ← μ·v + (g + λ·w);  w ← w − η·v. The velocity lives here and goes into checkpoints with the parameters.
/// </summary>
public sealed class SgdMomentum
{
    private readonly MlpShape _shape;

    public SgdMomentum(MlpShape shape, float momentum, float weightDecay)
    {
        if (!(momentum >= 0f && momentum < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be in [0, 1).");
        }

        if (!(weightDecay >= 0f && float.IsFinite(weightDecay)))
        {
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weight decay must be finite and ≥ 0.");
        }

        _shape = shape;
        Momentum = momentum;
        WeightDecay = weightDecay;
        Velocity = new float[shape.ParameterCount];
    }

    public float Momentum { get; }

    public float WeightDecay { get; }

    public float[] Velocity { get; }

    public void Step(MlpModel model, Span<float> gradients, float learningRate)
    {
        if (gradients.Length != _shape.ParameterCount)
        {
            throw new ArgumentException($"gradients hold {gradients.Length} values, the model has {_shape.ParameterCount}.", nameof(gradients));
        }

        if (WeightDecay > 0f)
        {
            for (var l = 0; l < _shape.LayerCount; l++)
            {
                var g = gradients.Slice(_shape.WeightOffset(l), _shape.WeightCount(l));
                TensorPrimitives.MultiplyAdd(model.Weights(l), WeightDecay, g, g);
            }
        }

        var velocity = Velocity.AsSpan();
        TensorPrimitives.MultiplyAdd(velocity, Momentum, gradients, velocity);
        var parameters = model.Parameters.AsSpan();
        TensorPrimitives.MultiplyAdd(velocity, -learningRate, parameters, parameters);
    }
}
