using System.Numerics.Tensors;
using DatasetQuant.Training.Data;
using DatasetQuant.Training.Model;

namespace DatasetQuant.Training.Evaluation;

/// <summary>Runs a classifier over every sample of a source in order and counts its answers.</summary>
public static class ClassifierEvaluator
{
    public const int BatchSize = 256;

    /// <summary>Through ONNX Runtime: how every exported model is judged.</summary>
    public static EvaluationReport Evaluate(OnnxClassifier classifier, ITrainingDataSource data)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        CheckFits(data, classifier.FeatureCount, classifier.ClassCount, classifier.Source);
        var logits = new float[BatchSize * classifier.ClassCount];
        return Run(data, classifier.ClassCount, (samples, count) =>
        {
            classifier.Predict(samples, count, logits);
            return logits;
        });
    }

    /// <summary>With the trainer's own forward pass (for quick checks inside experiments, without a file round trip).</summary>
    public static EvaluationReport Evaluate(MlpModel model, ITrainingDataSource data)
    {
        ArgumentNullException.ThrowIfNull(model);
        CheckFits(data, model.Shape.InputSize, model.Shape.ClassCount, $"model {model.Shape}");
        var pass = new MlpPass(model.Shape, BatchSize);
        return Run(data, model.Shape.ClassCount, (samples, count) => pass.Forward(model, samples, count).ToArray());
    }

    private static EvaluationReport Run(ITrainingDataSource data, int classes, Func<float[], int, float[]> predict)
    {
        var samples = new float[BatchSize * data.SampleLength];
        var labels = new int[BatchSize];
        var indices = new int[BatchSize];
        var confusion = new int[classes * classes];
        for (var start = 0; start < data.Count; start += BatchSize)
        {
            var count = Math.Min(BatchSize, data.Count - start);
            for (var j = 0; j < count; j++)
            {
                indices[j] = start + j;
            }

            data.ReadBatch(indices.AsSpan(0, count), samples, labels);
            var logits = predict(samples, count);
            for (var j = 0; j < count; j++)
            {
                var predicted = TensorPrimitives.IndexOfMax(logits.AsSpan(j * classes, classes));
                confusion[(labels[j] * classes) + predicted]++;
            }
        }

        return new EvaluationReport(classes, confusion);
    }

    private static void CheckFits(ITrainingDataSource data, int features, int classes, string model)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.SampleLength != features)
        {
            throw new InvalidDataException($"{data.Description}: samples have {data.SampleLength} values, {model} takes {features}.");
        }

        if (data.ClassCount != classes)
        {
            throw new InvalidDataException($"{data.Description}: {data.ClassCount} classes, {model} predicts {classes}.");
        }
    }
}
