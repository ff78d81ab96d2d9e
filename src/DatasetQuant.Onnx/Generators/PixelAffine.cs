using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DatasetQuant.Onnx.Generators;

/// <summary><c>destination[i] = source[i] * scale + offset</c>: the generator output → normalised pixels step.</summary>
public static class PixelAffine
{
    public static void Apply(ReadOnlySpan<float> source, Span<float> destination, float scale, float offset)
    {
        if (destination.Length < source.Length)
        {
            throw new ArgumentException("Destination is shorter than source.", nameof(destination));
        }

        ref var src = ref MemoryMarshal.GetReference(source);
        ref var dst = ref MemoryMarshal.GetReference(destination);
        var i = 0;
        var n = source.Length;
        if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            var vs = Vector256.Create(scale);
            var vo = Vector256.Create(offset);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.LoadUnsafe(ref src, (nuint)i);
                (v * vs + vo).StoreUnsafe(ref dst, (nuint)i);
            }
        }
        else if (Vector128.IsHardwareAccelerated && n >= Vector128<float>.Count)
        {
            var vs = Vector128.Create(scale);
            var vo = Vector128.Create(offset);
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                var v = Vector128.LoadUnsafe(ref src, (nuint)i);
                (v * vs + vo).StoreUnsafe(ref dst, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref dst, i) = Unsafe.Add(ref src, i) * scale + offset;
        }
    }
}
