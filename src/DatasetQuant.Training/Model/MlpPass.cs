using System.Numerics.Tensors;
using DatasetQuant.Training.Compute;

namespace DatasetQuant.Training.Model;

/// <summary>
/// Forward and backward passes of an <see cref="MlpModel"/> over batches of up to <see cref="MaxBatch"/> samples,
/// with every activation and delta buffer allocated once here. One instance per thread of training or inference.
/// </summary>
public sealed class MlpPass
{
    private readonly MlpShape _shape;
    private readonly Sgemm _gemm;
    private readonly float[][] _activations; // [l] = output of layer l (ReLU'd for hidden layers, logits for the last)
    private readonly float[][] _deltas;      // [l] = dLoss/d(pre-activation of layer l)

    public MlpPass(MlpShape shape, int maxBatch, ComputePool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatch);
        _shape = shape;
        MaxBatch = maxBatch;
        _gemm = new Sgemm(pool);
        _activations = new float[shape.LayerCount][];
        _deltas = new float[shape.LayerCount][];
        for (var l = 0; l < shape.LayerCount; l++)
        {
            _activations[l] = new float[maxBatch * shape.OutputsOf(l)];
            _deltas[l] = new float[maxBatch * shape.OutputsOf(l)];
        }
    }

    public int MaxBatch { get; }

    public MlpShape Shape => _shape;

    /// <summary>Runs the network on <paramref name="batch"/> samples; returns their logits (batch × classes), valid until the next call.</summary>
    public ReadOnlySpan<float> Forward(MlpModel model, ReadOnlySpan<float> inputs, int batch)
    {
        CheckModel(model);
        CheckBatch(inputs, batch);
        ReadOnlySpan<float> input = inputs[..(batch * _shape.InputSize)];
        for (var l = 0; l < _shape.LayerCount; l++)
        {
            var inSize = _shape.InputsOf(l);
            var outSize = _shape.OutputsOf(l);
            var output = _activations[l].AsSpan(0, batch * outSize);
            _gemm.Multiply(false, false, batch, outSize, inSize, input, inSize, model.Weights(l), outSize, output, outSize);
            var bias = model.Bias(l);
            for (var i = 0; i < batch; i++)
            {
                var row = output.Slice(i * outSize, outSize);
                TensorPrimitives.Add(row, bias, row);
            }

            if (l < _shape.LayerCount - 1)
            {
                Activations.Relu(output);
            }

            input = output;
        }

        return _activations[^1].AsSpan(0, batch * _shape.ClassCount);
    }

    /// <summary>
    /// Forward, softmax cross-entropy against <paramref name="labels"/>, and backward: fills <paramref name="gradients"/>
    /// (same layout as the parameters) with the gradient of the batch-mean loss and returns that mean loss. The loss is
    /// returned even when it is NaN or infinite; the caller decides what to do about it.
    /// </summary>
    public float ForwardBackward(MlpModel model, ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch, Span<float> gradients)
    {
        if (gradients.Length != _shape.ParameterCount)
        {
            throw new ArgumentException($"gradients hold {gradients.Length} values, the model has {_shape.ParameterCount}.", nameof(gradients));
        }

        if (labels.Length < batch)
        {
            throw new ArgumentException($"{labels.Length} labels for a batch of {batch}.", nameof(labels));
        }

        var logits = Forward(model, inputs, batch);
        var classes = _shape.ClassCount;
        var lastDelta = _deltas[^1].AsSpan(0, batch * classes);
        var scale = 1f / batch;
        double loss = 0;
        for (var i = 0; i < batch; i++)
        {
            var label = labels[i];
            if ((uint)label >= (uint)classes)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), label, $"label {label} of sample {i} is outside 0..{classes - 1}.");
            }

            loss += Activations.SoftmaxCrossEntropy(logits.Slice(i * classes, classes), label, scale, lastDelta.Slice(i * classes, classes));
        }

        for (var l = _shape.LayerCount - 1; l >= 0; l--)
        {
            var inSize = _shape.InputsOf(l);
            var outSize = _shape.OutputsOf(l);
            var delta = _deltas[l].AsSpan(0, batch * outSize);
            ReadOnlySpan<float> layerInput = l == 0 ? inputs[..(batch * inSize)] : _activations[l - 1].AsSpan(0, batch * inSize);

            // dW = inputᵀ · delta ; db = column sums of delta.
            var weightGradient = gradients.Slice(_shape.WeightOffset(l), _shape.WeightCount(l));
            _gemm.Multiply(true, false, inSize, outSize, batch, layerInput, inSize, delta, outSize, weightGradient, outSize);
            var biasGradient = gradients.Slice(_shape.BiasOffset(l), outSize);
            biasGradient.Clear();
            for (var i = 0; i < batch; i++)
            {
                TensorPrimitives.Add(biasGradient, delta.Slice(i * outSize, outSize), biasGradient);
            }

            if (l > 0)
            {
                // d(input) = delta · Wᵀ, then through the ReLU that produced the input.
                var previousDelta = _deltas[l - 1].AsSpan(0, batch * inSize);
                _gemm.Multiply(false, true, batch, inSize, outSize, delta, outSize, model.Weights(l), outSize, previousDelta, inSize);
                Activations.ReluBackward(layerInput, previousDelta);
            }
        }

        return (float)(loss / batch);
    }

    private void CheckModel(MlpModel model)
    {
        if (!model.Shape.Equals(_shape))
        {
            throw new ArgumentException($"model shape {model.Shape} differs from this pass's {_shape}.", nameof(model));
        }
    }

    private void CheckBatch(ReadOnlySpan<float> inputs, int batch)
    {
        if (batch <= 0 || batch > MaxBatch)
        {
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch must be 1..{MaxBatch}.");
        }

        if (inputs.Length < batch * _shape.InputSize)
        {
            throw new ArgumentException($"{inputs.Length} input values for {batch} samples of {_shape.InputSize}.", nameof(inputs));
        }
    }
}
