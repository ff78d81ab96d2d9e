using DatasetQuant.Onnx.Model;

namespace DatasetQuant.Onnx.Tests;

/// <summary>Small models built with the writer, with their reference computation in plain C#.</summary>
internal static class TestModels
{
    /// <summary>An MLP classifier in the trainer's export shape: x[N,in] → Gemm → Relu → Gemm → logits[N,out].</summary>
    public static (OnnxModel Model, float[] W1, float[] B1, float[] W2, float[] B2) Mlp(int inputs, int hidden, int outputs, int seed)
    {
        var random = new Random(seed);
        float[] Fill(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1) * 0.5f).ToArray();
        var w1 = Fill(hidden * inputs);
        var b1 = Fill(hidden);
        var w2 = Fill(outputs * hidden);
        var b2 = Fill(outputs);
        var g = new OnnxGraph("mlp");
        var x = g.AddInput("input", OnnxElementType.Float, -1, inputs);
        var h = g.Relu(g.Gemm(x, "fc1", w1, b1, inputs, hidden));
        g.Gemm(h, "fc2", w2, b2, hidden, outputs, output: "logits");
        g.AddOutput("logits", OnnxElementType.Float, -1, outputs);
        return (new OnnxModel(g), w1, b1, w2, b2);
    }

    public static float[] MlpReference(ReadOnlySpan<float> x, int batch, int inputs, int hidden, int outputs, float[] w1, float[] b1, float[] w2, float[] b2)
    {
        var result = new float[batch * outputs];
        var h = new float[hidden];
        for (var n = 0; n < batch; n++)
        {
            for (var j = 0; j < hidden; j++)
            {
                double sum = b1[j];
                for (var i = 0; i < inputs; i++)
                {
                    sum += w1[j * inputs + i] * x[n * inputs + i];
                }

                h[j] = (float)Math.Max(0, sum);
            }

            for (var k = 0; k < outputs; k++)
            {
                double sum = b2[k];
                for (var j = 0; j < hidden; j++)
                {
                    sum += w2[k * hidden + j] * h[j];
                }

                result[n * outputs + k] = (float)sum;
            }
        }

        return result;
    }
}
