using System.Globalization;
using System.Text;

namespace DatasetQuant.Core.Datasets;

/// <summary>The .npy header: magic, version, and the Python dict literal with descr, fortran_order and shape.</summary>
internal static class NpyFormat
{
    public static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static int ElementSize(NpyDType dtype) => dtype switch
    {
        NpyDType.UInt8 => 1,
        NpyDType.Int32 => 4,
        NpyDType.Int64 => 8,
        NpyDType.Float32 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    public static string Descr(NpyDType dtype) => dtype switch
    {
        NpyDType.UInt8 => "|u1",
        NpyDType.Int32 => "<i4",
        NpyDType.Int64 => "<i8",
        NpyDType.Float32 => "<f4",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    public static NpyDType ParseDescr(string descr, string path) => descr switch
    {
        "|u1" or "<u1" or "u1" => NpyDType.UInt8,
        "<i4" => NpyDType.Int32,
        "<i8" => NpyDType.Int64,
        "<f4" => NpyDType.Float32,
        _ => throw new DatasetFormatException(path, $"dtype '{descr}' is not supported (uint8, little-endian int32, int64 or float32)."),
    };

    /// <summary>The full header (magic through padding) for a C-order array, version 1.0, padded to 64 bytes.</summary>
    public static byte[] BuildHeader(NpyDType dtype, ReadOnlySpan<int> shape)
    {
        var dims = new StringBuilder();
        foreach (var d in shape)
        {
            dims.Append(d.ToString(CultureInfo.InvariantCulture)).Append(", ");
        }

        var shapeText = shape.Length == 1 ? $"({shape[0]},)" : $"({dims.ToString().TrimEnd(' ', ',')})";
        var dict = $"{{'descr': '{Descr(dtype)}', 'fortran_order': False, 'shape': {shapeText}, }}";
        var unpadded = Magic.Length + 2 + 2 + dict.Length + 1;
        var padding = (64 - unpadded % 64) % 64;
        var text = dict + new string(' ', padding) + "\n";
        var header = new byte[Magic.Length + 4 + text.Length];
        Magic.CopyTo(header);
        header[6] = 1;
        header[7] = 0;
        header[8] = (byte)(text.Length & 0xFF);
        header[9] = (byte)(text.Length >> 8);
        Encoding.ASCII.GetBytes(text, header.AsSpan(10));
        return header;
    }

    /// <summary>Parses the dict literal. Only what numpy writes is accepted; anything else is named in the error.</summary>
    public static (NpyDType DType, int[] Shape) ParseDict(string dict, string path)
    {
        var descr = ValueOf(dict, "descr", path).Trim('\'', '"');
        var fortran = ValueOf(dict, "fortran_order", path);
        if (fortran != "False")
        {
            throw new DatasetFormatException(path, $"fortran_order is {fortran}; only C-order arrays are supported.");
        }

        var shapeText = ValueOf(dict, "shape", path);
        if (!shapeText.StartsWith('(') || !shapeText.EndsWith(')'))
        {
            throw new DatasetFormatException(path, $"shape '{shapeText}' is not a tuple.");
        }

        var parts = shapeText[1..^1].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var shape = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i].TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
            {
                throw new DatasetFormatException(path, $"shape entry '{parts[i]}' is not a non-negative integer below 2^31.");
            }
        }

        return (ParseDescr(descr, path), shape);
    }

    private static string ValueOf(string dict, string key, string path)
    {
        var keyAt = dict.IndexOf($"'{key}'", StringComparison.Ordinal);
        if (keyAt < 0)
        {
            throw new DatasetFormatException(path, $"the .npy header has no '{key}' entry.");
        }

        var colon = dict.IndexOf(':', keyAt);
        if (colon < 0)
        {
            throw new DatasetFormatException(path, $"the .npy header entry '{key}' has no value.");
        }

        var start = colon + 1;
        var end = start;
        var depth = 0;
        while (end < dict.Length)
        {
            var ch = dict[end];
            if (ch == '(')
            {
                depth++;
            }
            else if (ch == ')')
            {
                depth--;
            }
            else if ((ch == ',' || ch == '}') && depth == 0)
            {
                break;
            }

            end++;
        }

        return dict[start..end].Trim();
    }
}
