using System.Runtime.InteropServices;
using System.Text;

namespace DatasetQuant.Onnx.Interop;

/// <summary>Copies managed tensors into ORT-owned tensor values and back.</summary>
internal static unsafe class OrtTensorValues
{
    public static nint Create(OnnxTensor tensor)
    {
        nint value;
        fixed (long* shape = tensor.Shape)
        {
            OrtStatus.Check(OrtApi.CreateTensorAsOrtValue(OnnxRuntime.DefaultAllocator, shape, (nuint)tensor.Shape.Length,
                (int)tensor.ElementType, &value), $"creating input '{tensor.Name}'");
        }

        try
        {
            if (tensor.ElementType == OnnxElementType.String)
            {
                FillStrings(value, tensor.Strings!);
            }
            else if (tensor.Data.Length > 0)
            {
                void* data;
                OrtStatus.Check(OrtApi.GetTensorMutableData(value, &data));
                tensor.Data.AsSpan().CopyTo(new Span<byte>(data, tensor.Data.Length));
            }

            return value;
        }
        catch
        {
            OrtApi.ReleaseValue(value);
            throw;
        }
    }

    public static OnnxTensor Read(nint value, string name)
    {
        var (type, shape) = OrtTensorShape.OfValue(value, name);
        var count = OnnxTensor.ElementCountOf(shape);
        if (type == OnnxElementType.String)
        {
            return new OnnxTensor(name, shape, ReadStrings(value, (int)count));
        }

        var bytes = new byte[checked((int)OnnxElementTypes.ByteLength(type, count))];
        if (bytes.Length > 0)
        {
            void* data;
            OrtStatus.Check(OrtApi.GetTensorMutableData(value, &data));
            new ReadOnlySpan<byte>(data, bytes.Length).CopyTo(bytes);
        }

        return new OnnxTensor(name, type, shape, bytes);
    }

    private static void FillStrings(nint value, string[] strings)
    {
        var pointers = new nint[strings.Length];
        try
        {
            for (var i = 0; i < strings.Length; i++)
            {
                pointers[i] = Marshal.StringToCoTaskMemUTF8(strings[i]);
            }

            fixed (nint* p = pointers)
            {
                OrtStatus.Check(OrtApi.FillStringTensor(value, p, (nuint)strings.Length));
            }
        }
        finally
        {
            foreach (var p in pointers)
            {
                Marshal.FreeCoTaskMem(p);
            }
        }
    }

    private static string[] ReadStrings(nint value, int count)
    {
        nuint length;
        OrtStatus.Check(OrtApi.GetStringTensorDataLength(value, &length));
        var buffer = new byte[(int)length];
        var offsets = new nuint[Math.Max(1, count)];
        fixed (byte* b = buffer)
        fixed (nuint* o = offsets)
        {
            OrtStatus.Check(OrtApi.GetStringTensorContent(value, b, length, o, (nuint)count));
        }

        var result = new string[count];
        for (var i = 0; i < count; i++)
        {
            var start = (int)offsets[i];
            var end = i + 1 < count ? (int)offsets[i + 1] : buffer.Length;
            result[i] = Encoding.UTF8.GetString(buffer, start, end - start);
        }

        return result;
    }
}
