using DatasetQuant.Training.Data;
using DatasetQuant.Training.Model;

namespace DatasetQuant.Training.Tests;

internal static class Evaluation
{
    /// <summary>Top-1 accuracy of the managed forward pass (ONNX Runtime evaluation is tested separately).</summary>
    public static double Accuracy(MlpModel model, ITrainingDataSource data)
    {
        const int batch = 256;
        var pass = new MlpPass(model.Shape, batch);
        var samples = new float[batch * data.SampleLength];
        var labels = new int[batch];
        var indices = new int[batch];
        var correct = 0;
        for (var start = 0; start < data.Count; start += batch)
        {
            var count = Math.Min(batch, data.Count - start);
            for (var j = 0; j < count; j++)
            {
                indices[j] = start + j;
            }

            data.ReadBatch(indices.AsSpan(0, count), samples, labels);
            var logits = pass.Forward(model, samples, count);
            for (var j = 0; j < count; j++)
            {
                var row = logits.Slice(j * model.Shape.ClassCount, model.Shape.ClassCount);
                if (System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row) == labels[j])
                {
                    correct++;
                }
            }
        }

        return (double)correct / data.Count;
    }
}
