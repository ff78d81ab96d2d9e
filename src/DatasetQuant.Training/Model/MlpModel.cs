namespace DatasetQuant.Training.Model;

/// <summary>An MLP's shape and its parameters in one flat vector (layout in <see cref="MlpShape"/>).</summary>
public sealed class MlpModel
{
    public MlpModel(MlpShape shape, float[] parameters)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Length != shape.ParameterCount)
        {
            throw new ArgumentException($"shape {shape} has {shape.ParameterCount} parameters, the vector holds {parameters.Length}.", nameof(parameters));
        }

        Shape = shape;
        Parameters = parameters;
    }

    public MlpShape Shape { get; }

    public float[] Parameters { get; }

    public Span<float> Weights(int layer) => Parameters.AsSpan(Shape.WeightOffset(layer), Shape.WeightCount(layer));

    public Span<float> Bias(int layer) => Parameters.AsSpan(Shape.BiasOffset(layer), Shape.OutputsOf(layer));

    /// <summary>He-normal weights (right for ReLU), zero biases, from a seed.</summary>
    public static MlpModel CreateRandom(MlpShape shape, long seed)
    {
        var model = new MlpModel(shape, new float[shape.ParameterCount]);
        var random = SeededRandom.For(seed, purpose: 1, index: 0);
        for (var l = 0; l < shape.LayerCount; l++)
        {
            var std = MathF.Sqrt(2f / shape.InputsOf(l));
            var weights = model.Weights(l);
            for (var i = 0; i < weights.Length; i++)
            {
                weights[i] = random.NextGaussian() * std;
            }
        }

        return model;
    }

    public MlpModel Clone() => new(Shape, (float[])Parameters.Clone());
}
