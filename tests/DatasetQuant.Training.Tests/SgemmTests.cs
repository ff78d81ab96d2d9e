using DatasetQuant.Training.Compute;

namespace DatasetQuant.Training.Tests;

[Trait("Category", "Simd")]
public sealed class SgemmTests
{
    public static TheoryData<bool, bool, int, int, int> Shapes => new()
    {
        { false, false, 1, 1, 1 },
        { false, false, 6, 16, 8 },
        { false, false, 13, 37, 300 },     // edge tiles in both directions, two K blocks
        { true, false, 29, 18, 7 },
        { false, true, 33, 50, 513 },
        { true, true, 7, 5, 260 },
        { false, false, 128, 256, 784 },   // the training shape: big enough to split across threads
        { true, false, 784, 256, 128 },    // the weight-gradient shape
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Matches_a_double_precision_triple_loop(bool transA, bool transB, int m, int n, int k)
    {
        var random = new Random(m * 1000 + n * 10 + k);
        var a = Fill(random, m * k);
        var b = Fill(random, k * n);
        var c = Fill(random, m * n);
        var lda = transA ? m : k;
        var ldb = transB ? k : n;
        using var pool = new ComputePool(2);
        foreach (var accumulate in new[] { false, true })
        {
            var expected = Naive(transA, transB, m, n, k, a, lda, b, ldb, accumulate ? c : null);
            var actual = (float[])c.Clone();
            new Sgemm(pool).Multiply(transA, transB, m, n, k, a, lda, b, ldb, actual, n, accumulate);
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * (1 + Math.Abs(expected[i])) * Math.Sqrt(k),
                    $"C[{i / n},{i % n}] = {actual[i]}, expected {expected[i]} (transA={transA}, transB={transB}, accumulate={accumulate})");
            }
        }
    }

    [Fact]
    public void Serial_and_parallel_give_identical_bits()
    {
        var random = new Random(5);
        const int m = 130, n = 70, k = 600;
        var a = Fill(random, m * k);
        var b = Fill(random, k * n);
        var serial = new float[m * n];
        var parallel = new float[m * n];
        new Sgemm().Multiply(false, false, m, n, k, a, k, b, n, serial, n);
        using var pool = new ComputePool(2);
        new Sgemm(pool).Multiply(false, false, m, n, k, a, k, b, n, parallel, n);
        Assert.Equal(serial, parallel);
    }

    [Fact]
    public void Respects_row_strides_and_leaves_padding_alone()
    {
        // A 3×2 product written into the left part of a 3×5 buffer.
        float[] a = [1, 2, 3, 4, 5, 6];           // 3×2
        float[] b = [1, 0, 0, 1];                 // 2×2 identity
        var c = Enumerable.Repeat(-7f, 15).ToArray();
        new Sgemm().Multiply(false, false, 3, 2, 2, a, 2, b, 2, c, 5);
        Assert.Equal([1, 2, -7, -7, -7, 3, 4, -7, -7, -7, 5, 6, -7, -7, -7], c);
    }

    [Fact]
    public void Rejects_spans_too_short_for_their_shape()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            new Sgemm().Multiply(false, false, 4, 4, 4, new float[15], 4, new float[16], 4, new float[16], 4));
        Assert.Contains("a: 4×4 with stride 4 needs 16 floats", ex.Message);
    }

    internal static float[] Fill(Random random, int count)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return values;
    }

    private static double[] Naive(bool transA, bool transB, int m, int n, int k, float[] a, int lda, float[] b, int ldb, float[]? c)
    {
        var result = new double[m * n];
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                double sum = c?[(i * n) + j] ?? 0;
                for (var p = 0; p < k; p++)
                {
                    var av = transA ? a[(p * lda) + i] : a[(i * lda) + p];
                    var bv = transB ? b[(j * ldb) + p] : b[(p * ldb) + j];
                    sum += (double)av * bv;
                }

                result[(i * n) + j] = sum;
            }
        }

        return result;
    }
}
