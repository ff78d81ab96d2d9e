using System.Numerics.Tensors;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Onnx.Model;
using DatasetQuant.Training.Data;

namespace DatasetQuant.Training.Evaluation;

/// <summary>
/// D_i(b) as a reference classifier sees it. For b ≥ 1, KL(p(x_i) ‖ p(x̂_i at b bits)): the information about the class
/// the model loses when it is given the b-bit sample instead of the original. A sample the model still reads the same
/// way at 2 bits needs no more; a sample near a decision boundary does. For b = 0, the model's cross-entropy on the
/// original, −log p(y_i | x_i): what is left to learn from the sample, next to nothing for one the model already gets right
/// with confidence, so the allocator may drop such samples first (<see cref="DropCostRanksSamples"/>). The classifier runs
/// through ONNX Runtime on whole batches, once on the originals and once per width 1..8.
/// </summary>
public sealed class ModelDistortionMeasure : IDistortionMeasure, IDisposable
{
    private readonly OnnxClassifier _classifier;
    private readonly InputNormalization? _normalization;
    private readonly float[] _samples;
    private readonly float[] _logits;
    private readonly float[] _reference;
    private readonly float[] _scratch;

    public ModelDistortionMeasure(string modelPath, int batchSize = 256)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        _normalization = InputNormalization.FromMetadata(OnnxModelReader.ReadFile(modelPath).Metadata, modelPath);
        _classifier = new OnnxClassifier(modelPath);
        BatchSize = batchSize;
        Source = modelPath;
        _samples = new float[batchSize * _classifier.FeatureCount];
        _logits = new float[batchSize * _classifier.ClassCount];
        _reference = new float[batchSize * _classifier.ClassCount];
        _scratch = new float[_classifier.ClassCount];
    }

    public string Name => "model-kl";

    public string Source { get; }

    public int BatchSize { get; }

    public bool DropCostRanksSamples => true;

    /// <summary>ln K: the cross-entropy of a uniform guess over the model's K classes.</summary>
    public double ChanceDropCost => Math.Log(_classifier.ClassCount);

    public void Measure(DistortionBatch batch, Span<double> distortion)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.PixelsPerSample != _classifier.FeatureCount)
        {
            throw new InvalidDataException(
                $"importance model '{Source}' takes {_classifier.FeatureCount} values per sample, the dataset's samples have {batch.PixelsPerSample} ({batch.Channels}x{batch.Height}x{batch.Width}).");
        }

        if (batch.Count > BatchSize)
        {
            throw new ArgumentException($"a batch of {batch.Count} exceeds the {BatchSize} this measure asked for.", nameof(batch));
        }

        var normalization = _normalization ?? new InputNormalization([.. batch.ChannelMean], [.. batch.ChannelStandardDeviation]);
        var classes = _classifier.ClassCount;
        var count = batch.Count;
        var samples = _samples.AsSpan(0, count * batch.PixelsPerSample);
        batch.Original.CopyTo(samples);
        LogSoftmax(samples, count, normalization, batch.PixelsPerSample, _reference);
        for (var k = 0; k < count; k++)
        {
            var label = batch.Labels[k];
            if ((uint)label >= (uint)classes)
            {
                throw new InvalidDataException(
                    $"sample {batch.FirstIndex + k} has label {label}; importance model '{Source}' has {classes} classes.");
            }

            var crossEntropy = -_reference[(k * classes) + label];
            distortion[k * SampleQuantizer.WidthCount] = float.IsFinite(crossEntropy) ? Math.Max(0, crossEntropy) : 1e6;
        }

        for (var bits = 1; bits < SampleQuantizer.WidthCount; bits++)
        {
            batch.Reconstruct(bits, samples);
            LogSoftmax(samples, count, normalization, batch.PixelsPerSample, _logits);
            for (var k = 0; k < count; k++)
            {
                var reference = _reference.AsSpan(k * classes, classes);
                var quantized = _logits.AsSpan(k * classes, classes);

                // KL(p‖q) = Σ p·(log p − log q), with p = exp(log p).
                TensorPrimitives.Subtract(reference, quantized, _scratch);
                double kl = 0;
                for (var c = 0; c < classes; c++)
                {
                    kl += MathF.Exp(reference[c]) * _scratch[c];
                }

                distortion[(k * SampleQuantizer.WidthCount) + bits] = double.IsFinite(kl) ? Math.Max(0, kl) : 1e6;
            }
        }
    }

    private void LogSoftmax(Span<float> samples, int count, InputNormalization normalization, int pixelsPerSample, float[] output)
    {
        normalization.ApplyToUnitScale(samples, pixelsPerSample);
        _classifier.Predict(samples, count, output);
        var classes = _classifier.ClassCount;
        for (var k = 0; k < count; k++)
        {
            var row = output.AsSpan(k * classes, classes);
            var max = TensorPrimitives.Max(row);
            TensorPrimitives.Subtract(row, max, row);
            TensorPrimitives.Exp(row, _scratch);
            var logSum = MathF.Log(TensorPrimitives.Sum(_scratch));
            TensorPrimitives.Subtract(row, logSum, row);
        }
    }

    public void Dispose() => _classifier.Dispose();
}
