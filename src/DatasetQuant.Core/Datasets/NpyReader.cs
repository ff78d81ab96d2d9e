using System.Buffers.Binary;
using System.Text;

namespace DatasetQuant.Core.Datasets;

/// <summary>Reads .npy files (versions 1–3) holding uint8, int32, int64 or float32 in C order.</summary>
public static class NpyReader
{
    public static NpyArray Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new DatasetFormatException(path, "file not found.");
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var fileLength = stream.Length;
        Span<byte> prefix = stackalloc byte[12];
        if (fileLength < 10)
        {
            throw new DatasetFormatException(path, $"{fileLength} bytes is too short for a .npy header.");
        }

        InputFile.ReadExactly(stream, prefix[..8], path, "the .npy magic");
        if (!prefix[..6].SequenceEqual(NpyFormat.Magic))
        {
            throw new DatasetFormatException(path, "not a .npy file (the magic \\x93NUMPY is missing).");
        }

        var major = prefix[6];
        long headerLength;
        long dataStart;
        if (major == 1)
        {
            InputFile.ReadExactly(stream, prefix.Slice(8, 2), path, "the .npy header length");
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]);
            dataStart = 10 + headerLength;
        }
        else if (major is 2 or 3)
        {
            InputFile.ReadExactly(stream, prefix.Slice(8, 4), path, "the .npy header length");
            headerLength = BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
            dataStart = 12 + headerLength;
        }
        else
        {
            throw new DatasetFormatException(path, $".npy version {major}.{prefix[7]} is not supported.");
        }

        if (dataStart > fileLength)
        {
            throw new DatasetFormatException(path, $"the header claims {headerLength} bytes but the file has {fileLength}.");
        }

        var headerBytes = new byte[headerLength];
        InputFile.ReadExactly(stream, headerBytes, path, "the .npy header");
        var (dtype, shape) = NpyFormat.ParseDict(Encoding.UTF8.GetString(headerBytes), path);
        long elements = 1;
        foreach (var d in shape)
        {
            elements *= d;
            if (elements > Array.MaxLength)
            {
                throw new DatasetFormatException(path, $"shape ({string.Join(", ", shape)}) is too large.");
            }
        }

        var dataLength = elements * NpyFormat.ElementSize(dtype);
        if (dataStart + dataLength != fileLength)
        {
            throw new DatasetFormatException(path,
                $"shape ({string.Join(", ", shape)}) of {dtype} needs {dataLength} data bytes but the file has {fileLength - dataStart}.");
        }

        if (dataLength > Array.MaxLength)
        {
            throw new DatasetFormatException(path, $"{dataLength} data bytes do not fit one array.");
        }

        var data = new byte[dataLength];
        InputFile.ReadExactly(stream, data, path, "the .npy data");
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("dq reads .npy files on little-endian machines only.");
        }

        return new NpyArray(dtype, shape, data);
    }
}
