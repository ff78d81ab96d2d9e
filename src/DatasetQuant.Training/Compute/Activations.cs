using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace DatasetQuant.Training.Compute;

/// <summary>The element-wise pieces of the MLP that <see cref="TensorPrimitives"/> does not have as one call.</summary>
internal static class Activations
{
    public static void Relu(Span<float> values) => TensorPrimitives.Max(values, 0f, values);

    /// <summary>gradient[i] = activation[i] &gt; 0 ? gradient[i] : 0 (the ReLU derivative, read from its output).</summary>
    public static void ReluBackward(ReadOnlySpan<float> activation, Span<float> gradient)
    {
        if (activation.Length != gradient.Length)
        {
            throw new ArgumentException("activation and gradient lengths differ.", nameof(gradient));
        }

        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= activation.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var a = Vector256.Create(activation.Slice(i, Vector256<float>.Count));
                var g = Vector256.Create((ReadOnlySpan<float>)gradient.Slice(i, Vector256<float>.Count));
                (g & Vector256.GreaterThan(a, Vector256<float>.Zero)).CopyTo(gradient.Slice(i, Vector256<float>.Count));
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= activation.Length - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                var a = Vector128.Create(activation.Slice(i, Vector128<float>.Count));
                var g = Vector128.Create((ReadOnlySpan<float>)gradient.Slice(i, Vector128<float>.Count));
                (g & Vector128.GreaterThan(a, Vector128<float>.Zero)).CopyTo(gradient.Slice(i, Vector128<float>.Count));
            }
        }

        for (; i < activation.Length; i++)
        {
            if (!(activation[i] > 0f))
            {
                gradient[i] = 0f;
            }
        }
    }

    /// <summary>
    /// Softmax cross-entropy of one row of logits: writes (p − onehot)·<paramref name="scale"/> into
    /// <paramref name="gradient"/> and returns −log p[label], computed as logsumexp − z[label] so it stays finite.
    /// </summary>
    public static float SoftmaxCrossEntropy(ReadOnlySpan<float> logits, int label, float scale, Span<float> gradient)
    {
        var max = TensorPrimitives.Max(logits);
        TensorPrimitives.Subtract(logits, max, gradient);
        var shiftedTarget = gradient[label];
        TensorPrimitives.Exp(gradient, gradient);
        var sum = TensorPrimitives.Sum(gradient);
        TensorPrimitives.Multiply(gradient, scale / sum, gradient);
        gradient[label] -= scale;
        return MathF.Log(sum) - shiftedTarget;
    }
}
