using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DatasetQuant.Training.Compute;

/// <summary>
/// The 6×16 micro-kernels of <see cref="Sgemm"/>: C[6×16] (+)= Ap[kc×6]ᵀ·Bp[kc×16] over packed panels. Six rows by
/// two 256-bit columns keep twelve accumulators, two B vectors and one broadcast in the sixteen AVX2 registers; the
/// 128-bit kernel (NEON on the boards) holds 24 accumulators in its 32 registers. The scalar kernel is the fallback
/// when hardware intrinsics are off and the reference the vector ones are tested against.
/// </summary>
internal static unsafe class GemmKernels
{
    public const int MR = 6;
    public const int NR = 16;

    public static void Run(int kc, float* ap, float* bp, float* c, int ldc, bool accumulate)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            Kernel256(kc, ap, bp, c, ldc, accumulate);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Kernel128(kc, ap, bp, c, ldc, accumulate);
        }
        else
        {
            KernelScalar(kc, ap, bp, c, ldc, accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel256(int kc, float* ap, float* bp, float* c, int ldc, bool accumulate)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (var p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(bp);
            var b1 = Vector256.Load(bp + 8);
            var a = Vector256.Create(ap[0]);
            c00 = Vector256.MultiplyAddEstimate(a, b0, c00);
            c01 = Vector256.MultiplyAddEstimate(a, b1, c01);
            a = Vector256.Create(ap[1]);
            c10 = Vector256.MultiplyAddEstimate(a, b0, c10);
            c11 = Vector256.MultiplyAddEstimate(a, b1, c11);
            a = Vector256.Create(ap[2]);
            c20 = Vector256.MultiplyAddEstimate(a, b0, c20);
            c21 = Vector256.MultiplyAddEstimate(a, b1, c21);
            a = Vector256.Create(ap[3]);
            c30 = Vector256.MultiplyAddEstimate(a, b0, c30);
            c31 = Vector256.MultiplyAddEstimate(a, b1, c31);
            a = Vector256.Create(ap[4]);
            c40 = Vector256.MultiplyAddEstimate(a, b0, c40);
            c41 = Vector256.MultiplyAddEstimate(a, b1, c41);
            a = Vector256.Create(ap[5]);
            c50 = Vector256.MultiplyAddEstimate(a, b0, c50);
            c51 = Vector256.MultiplyAddEstimate(a, b1, c51);
            ap += MR;
            bp += NR;
        }

        Store256(c, c00, c01, accumulate);
        Store256(c + ldc, c10, c11, accumulate);
        Store256(c + (2 * ldc), c20, c21, accumulate);
        Store256(c + (3 * ldc), c30, c31, accumulate);
        Store256(c + (4 * ldc), c40, c41, accumulate);
        Store256(c + (5 * ldc), c50, c51, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(float* row, Vector256<float> v0, Vector256<float> v1, bool accumulate)
    {
        if (accumulate)
        {
            v0 += Vector256.Load(row);
            v1 += Vector256.Load(row + 8);
        }

        v0.Store(row);
        v1.Store(row + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel128(int kc, float* ap, float* bp, float* c, int ldc, bool accumulate)
    {
        // Row by row keeps the code short; 4 accumulators per row, 6 rows.
        Vector128<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector128<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector128<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector128<float> c30 = default, c31 = default, c32 = default, c33 = default;
        Vector128<float> c40 = default, c41 = default, c42 = default, c43 = default;
        Vector128<float> c50 = default, c51 = default, c52 = default, c53 = default;
        for (var p = 0; p < kc; p++)
        {
            var b0 = Vector128.Load(bp);
            var b1 = Vector128.Load(bp + 4);
            var b2 = Vector128.Load(bp + 8);
            var b3 = Vector128.Load(bp + 12);
            var a = Vector128.Create(ap[0]);
            c00 = Vector128.MultiplyAddEstimate(a, b0, c00); c01 = Vector128.MultiplyAddEstimate(a, b1, c01);
            c02 = Vector128.MultiplyAddEstimate(a, b2, c02); c03 = Vector128.MultiplyAddEstimate(a, b3, c03);
            a = Vector128.Create(ap[1]);
            c10 = Vector128.MultiplyAddEstimate(a, b0, c10); c11 = Vector128.MultiplyAddEstimate(a, b1, c11);
            c12 = Vector128.MultiplyAddEstimate(a, b2, c12); c13 = Vector128.MultiplyAddEstimate(a, b3, c13);
            a = Vector128.Create(ap[2]);
            c20 = Vector128.MultiplyAddEstimate(a, b0, c20); c21 = Vector128.MultiplyAddEstimate(a, b1, c21);
            c22 = Vector128.MultiplyAddEstimate(a, b2, c22); c23 = Vector128.MultiplyAddEstimate(a, b3, c23);
            a = Vector128.Create(ap[3]);
            c30 = Vector128.MultiplyAddEstimate(a, b0, c30); c31 = Vector128.MultiplyAddEstimate(a, b1, c31);
            c32 = Vector128.MultiplyAddEstimate(a, b2, c32); c33 = Vector128.MultiplyAddEstimate(a, b3, c33);
            a = Vector128.Create(ap[4]);
            c40 = Vector128.MultiplyAddEstimate(a, b0, c40); c41 = Vector128.MultiplyAddEstimate(a, b1, c41);
            c42 = Vector128.MultiplyAddEstimate(a, b2, c42); c43 = Vector128.MultiplyAddEstimate(a, b3, c43);
            a = Vector128.Create(ap[5]);
            c50 = Vector128.MultiplyAddEstimate(a, b0, c50); c51 = Vector128.MultiplyAddEstimate(a, b1, c51);
            c52 = Vector128.MultiplyAddEstimate(a, b2, c52); c53 = Vector128.MultiplyAddEstimate(a, b3, c53);
            ap += MR;
            bp += NR;
        }

        Store128(c, c00, c01, c02, c03, accumulate);
        Store128(c + ldc, c10, c11, c12, c13, accumulate);
        Store128(c + (2 * ldc), c20, c21, c22, c23, accumulate);
        Store128(c + (3 * ldc), c30, c31, c32, c33, accumulate);
        Store128(c + (4 * ldc), c40, c41, c42, c43, accumulate);
        Store128(c + (5 * ldc), c50, c51, c52, c53, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store128(float* row, Vector128<float> v0, Vector128<float> v1, Vector128<float> v2, Vector128<float> v3, bool accumulate)
    {
        if (accumulate)
        {
            v0 += Vector128.Load(row);
            v1 += Vector128.Load(row + 4);
            v2 += Vector128.Load(row + 8);
            v3 += Vector128.Load(row + 12);
        }

        v0.Store(row);
        v1.Store(row + 4);
        v2.Store(row + 8);
        v3.Store(row + 12);
    }

    internal static void KernelScalar(int kc, float* ap, float* bp, float* c, int ldc, bool accumulate)
    {
        var tile = stackalloc float[MR * NR];
        new Span<float>(tile, MR * NR).Clear();
        for (var p = 0; p < kc; p++)
        {
            for (var r = 0; r < MR; r++)
            {
                var a = ap[r];
                var row = tile + (r * NR);
                for (var j = 0; j < NR; j++)
                {
                    row[j] += a * bp[j];
                }
            }

            ap += MR;
            bp += NR;
        }

        for (var r = 0; r < MR; r++)
        {
            for (var j = 0; j < NR; j++)
            {
                c[(r * ldc) + j] = accumulate ? c[(r * ldc) + j] + tile[(r * NR) + j] : tile[(r * NR) + j];
            }
        }
    }
}
