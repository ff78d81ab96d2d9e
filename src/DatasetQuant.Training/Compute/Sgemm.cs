using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DatasetQuant.Training.Compute;

/// <summary>
/// Single-precision matrix product C (+)= op(A)·op(B) on row-major spans, where op is the identity or a transpose.
/// Blocked after Goto/BLIS: B is packed into 16-column panels per K block, each thread packs its own 6-row panels of
/// A, and the 6×16 micro-kernel runs on the packed panels, so every transpose layout costs the same and the inner loop
/// only streams contiguous memory. Rows of C are split across the <see cref="ComputePool"/> when the product is big
/// enough to pay for waking a thread. Packing buffers grow to the largest product seen and are then reused: after the
/// first call of a given size nothing is allocated.
/// </summary>
public sealed unsafe class Sgemm : IParallelWork
{
    private const int KC = 256;
    private const int MC = 96;

    // Below this many multiply-adds a second thread costs more to wake than it saves.
    private const long ParallelThreshold = 1L << 18;

    private readonly ComputePool _pool;
    private float[] _packedB = [];
    private readonly float[][] _packedA;
    private readonly float[][] _edgeTiles;

    // The arguments of the product in flight, read by every part.
    private float* _a;
    private float* _c;
    private float* _bPanels;
    private int _lda;
    private int _ldc;
    private int _m;
    private int _nc;
    private int _kc;
    private int _pc;
    private int _jc;
    private bool _transA;
    private bool _accumulate;

    public Sgemm(ComputePool? pool = null)
    {
        _pool = pool ?? ComputePool.Serial;
        _packedA = new float[_pool.Parallelism][];
        _edgeTiles = new float[_pool.Parallelism][];
        for (var i = 0; i < _pool.Parallelism; i++)
        {
            _packedA[i] = GC.AllocateUninitializedArray<float>(MC * KC, pinned: true);
            _edgeTiles[i] = GC.AllocateUninitializedArray<float>(GemmKernels.MR * GemmKernels.NR, pinned: true);
        }
    }

    /// <summary>
    /// C[m×n] = op(A)·op(B), or C += op(A)·op(B) when <paramref name="accumulate"/>. op(A) is m×k and op(B) is k×n;
    /// lda/ldb/ldc are the row strides of the spans as stored.
    /// </summary>
    public void Multiply(
        bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        CheckOperand(a, nameof(a), transposeA ? k : m, transposeA ? m : k, lda);
        CheckOperand(b, nameof(b), transposeB ? n : k, transposeB ? k : n, ldb);
        CheckOperand(c, nameof(c), m, n, ldc);
        if (m == 0 || n == 0)
        {
            return;
        }

        if (k == 0)
        {
            if (!accumulate)
            {
                for (var i = 0; i < m; i++)
                {
                    c.Slice(i * ldc, n).Clear();
                }
            }

            return;
        }

        var panelsN = (n + GemmKernels.NR - 1) / GemmKernels.NR;
        var packedBLength = panelsN * GemmKernels.NR * Math.Min(k, KC);
        if (_packedB.Length < packedBLength)
        {
            _packedB = GC.AllocateUninitializedArray<float>(packedBLength, pinned: true);
        }

        var rowPanels = (m + GemmKernels.MR - 1) / GemmKernels.MR;
        var parts = (long)m * n * k >= ParallelThreshold ? Math.Min(_pool.Parallelism, rowPanels) : 1;
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        fixed (float* packedB = _packedB)
        {
            _a = pa;
            _c = pc;
            _bPanels = packedB;
            _lda = lda;
            _ldc = ldc;
            _m = m;
            _nc = n;
            _jc = 0;
            _transA = transposeA;
            for (var p = 0; p < k; p += KC)
            {
                _pc = p;
                _kc = Math.Min(KC, k - p);
                _accumulate = accumulate || p > 0;
                PackB(pb, ldb, transposeB, p, _kc, n, packedB);
                _pool.Run(this, parts);
            }

            _a = null;
            _c = null;
            _bPanels = null;
        }
    }

    void IParallelWork.Execute(int part, int parts)
    {
        var rowPanels = (_m + GemmKernels.MR - 1) / GemmKernels.MR;
        var firstPanel = (int)((long)rowPanels * part / parts);
        var endPanel = (int)((long)rowPanels * (part + 1) / parts);
        var packedA = _packedA[part];
        var tile = _edgeTiles[part];
        fixed (float* ap = packedA)
        fixed (float* edge = tile)
        {
            for (var panel = firstPanel; panel < endPanel; panel += MC / GemmKernels.MR)
            {
                var ic = panel * GemmKernels.MR;
                var mc = Math.Min(Math.Min(MC, _m - ic), (endPanel * GemmKernels.MR) - ic);
                PackA(ic, mc, ap);
                ComputeBlock(ic, mc, ap, edge);
            }
        }
    }

    private void ComputeBlock(int ic, int mc, float* ap, float* edge)
    {
        var kc = _kc;
        for (var jr = 0; jr < _nc; jr += GemmKernels.NR)
        {
            var nr = Math.Min(GemmKernels.NR, _nc - jr);
            var bp = _bPanels + (jr * kc);
            for (var ir = 0; ir < mc; ir += GemmKernels.MR)
            {
                var mr = Math.Min(GemmKernels.MR, mc - ir);
                var c = _c + ((long)(ic + ir) * _ldc) + _jc + jr;
                var aPanel = ap + (ir * kc);
                if (mr == GemmKernels.MR && nr == GemmKernels.NR)
                {
                    GemmKernels.Run(kc, aPanel, bp, c, _ldc, _accumulate);
                }
                else
                {
                    GemmKernels.Run(kc, aPanel, bp, edge, GemmKernels.NR, accumulate: false);
                    for (var r = 0; r < mr; r++)
                    {
                        var src = new ReadOnlySpan<float>(edge + (r * GemmKernels.NR), nr);
                        var dst = new Span<float>(c + ((long)r * _ldc), nr);
                        if (_accumulate)
                        {
                            System.Numerics.Tensors.TensorPrimitives.Add(dst, src, dst);
                        }
                        else
                        {
                            src.CopyTo(dst);
                        }
                    }
                }
            }
        }
    }

    /// <summary>Packs rows [ic, ic+mc) × K block of op(A) as 6-row panels, k-major, zero-padding the last panel.</summary>
    private void PackA(int ic, int mc, float* dst)
    {
        var kc = _kc;
        var pc = _pc;
        var lda = _lda;
        for (var ir = 0; ir < mc; ir += GemmKernels.MR)
        {
            var mr = Math.Min(GemmKernels.MR, mc - ir);
            var panel = dst + (ir * kc);
            var row0 = ic + ir;
            if (_transA)
            {
                // op(A)(i, p) = A[p, i]: the six values of one k are adjacent in memory.
                for (var p = 0; p < kc; p++)
                {
                    var src = _a + ((long)(pc + p) * lda) + row0;
                    var d = panel + (p * GemmKernels.MR);
                    var r = 0;
                    for (; r < mr; r++)
                    {
                        d[r] = src[r];
                    }

                    for (; r < GemmKernels.MR; r++)
                    {
                        d[r] = 0f;
                    }
                }
            }
            else
            {
                for (var r = 0; r < GemmKernels.MR; r++)
                {
                    var d = panel + r;
                    if (r < mr)
                    {
                        var src = _a + ((long)(row0 + r) * lda) + pc;
                        for (var p = 0; p < kc; p++)
                        {
                            d[p * GemmKernels.MR] = src[p];
                        }
                    }
                    else
                    {
                        for (var p = 0; p < kc; p++)
                        {
                            d[p * GemmKernels.MR] = 0f;
                        }
                    }
                }
            }
        }
    }

    /// <summary>Packs the K block [pc, pc+kc) × all n columns of op(B) as 16-column panels, zero-padding the last.</summary>
    private static void PackB(float* b, int ldb, bool transposeB, int pc, int kc, int n, float* dst)
    {
        for (var jr = 0; jr < n; jr += GemmKernels.NR)
        {
            var nr = Math.Min(GemmKernels.NR, n - jr);
            var panel = dst + (jr * kc);
            if (!transposeB && nr == GemmKernels.NR)
            {
                for (var p = 0; p < kc; p++)
                {
                    var src = b + ((long)(pc + p) * ldb) + jr;
                    CopyPanelRow(src, panel + (p * GemmKernels.NR));
                }
            }
            else if (!transposeB)
            {
                for (var p = 0; p < kc; p++)
                {
                    var src = b + ((long)(pc + p) * ldb) + jr;
                    var d = panel + (p * GemmKernels.NR);
                    var j = 0;
                    for (; j < nr; j++)
                    {
                        d[j] = src[j];
                    }

                    for (; j < GemmKernels.NR; j++)
                    {
                        d[j] = 0f;
                    }
                }
            }
            else
            {
                // op(B)(p, j) = B[j, p]: walk each source row once, scattering into the panel's column.
                for (var j = 0; j < GemmKernels.NR; j++)
                {
                    var d = panel + j;
                    if (j < nr)
                    {
                        var src = b + ((long)(jr + j) * ldb) + pc;
                        for (var p = 0; p < kc; p++)
                        {
                            d[p * GemmKernels.NR] = src[p];
                        }
                    }
                    else
                    {
                        for (var p = 0; p < kc; p++)
                        {
                            d[p * GemmKernels.NR] = 0f;
                        }
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyPanelRow(float* src, float* dst)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256.Store(Vector256.Load(src), dst);
            Vector256.Store(Vector256.Load(src + 8), dst + 8);
        }
        else
        {
            new ReadOnlySpan<float>(src, GemmKernels.NR).CopyTo(new Span<float>(dst, GemmKernels.NR));
        }
    }

    private static void CheckOperand(ReadOnlySpan<float> span, string name, int rows, int cols, int stride)
    {
        if (rows == 0 || cols == 0)
        {
            return;
        }

        if (stride < cols)
        {
            throw new ArgumentOutOfRangeException(name, stride, $"{name}: row stride {stride} is smaller than its {cols} columns.");
        }

        var needed = ((long)(rows - 1) * stride) + cols;
        if (span.Length < needed)
        {
            throw new ArgumentException($"{name}: {rows}×{cols} with stride {stride} needs {needed} floats, the span holds {span.Length}.", name);
        }
    }
}
