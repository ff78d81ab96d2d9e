using System.Buffers.Binary;

namespace DatasetQuant.Core.Datasets;

/// <summary>
/// MNIST-style IDX files (big-endian): images are type 0x08 (ubyte) with 3 dimensions N×H×W, labels type 0x08 with one
/// dimension N. Either may be gzipped.
/// </summary>
public static class IdxReader
{
    public static ImageDataset Read(string imagesPath, string labelsPath, string name, int? classCount = null)
    {
        var (imageDims, pixels) = ReadArray(imagesPath, expectedRank: 3);
        var (labelDims, labelBytes) = ReadArray(labelsPath, expectedRank: 1);
        if (labelDims[0] != imageDims[0])
        {
            throw new DatasetFormatException(labelsPath, $"has {labelDims[0]} labels but {imagesPath} has {imageDims[0]} images.");
        }

        var labels = new int[labelBytes.Length];
        var maxLabel = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = labelBytes[i];
            maxLabel = Math.Max(maxLabel, labels[i]);
        }

        var classes = classCount ?? maxLabel + 1;
        if (maxLabel >= classes)
        {
            throw new DatasetFormatException(labelsPath, $"label {maxLabel} is outside [0, {classes}).");
        }

        return new ImageDataset(name, 1, imageDims[1], imageDims[2], classes, pixels, labels);
    }

    private static (int[] Dims, byte[] Data) ReadArray(string path, int expectedRank)
    {
        using var stream = InputFile.Open(path);
        Span<byte> magic = stackalloc byte[4];
        InputFile.ReadExactly(stream, magic, path, "the IDX magic");
        if (magic[0] != 0 || magic[1] != 0)
        {
            throw new DatasetFormatException(path, $"not an IDX file: the magic starts {magic[0]:X2} {magic[1]:X2}, expected 00 00.");
        }

        if (magic[2] != 0x08)
        {
            throw new DatasetFormatException(path, $"IDX element type 0x{magic[2]:X2} is not supported (only 0x08, unsigned byte).");
        }

        if (magic[3] != expectedRank)
        {
            throw new DatasetFormatException(path, $"IDX rank is {magic[3]}, expected {expectedRank}.");
        }

        Span<byte> dimBytes = stackalloc byte[4 * expectedRank];
        InputFile.ReadExactly(stream, dimBytes, path, "the IDX dimensions");
        var dims = new int[expectedRank];
        long total = 1;
        for (var d = 0; d < expectedRank; d++)
        {
            var value = BinaryPrimitives.ReadUInt32BigEndian(dimBytes[(4 * d)..]);
            if (value == 0 || value > int.MaxValue || (d > 0 && value > 65535))
            {
                throw new DatasetFormatException(path, $"IDX dimension {d} is {value}, which is not a usable size.");
            }

            dims[d] = (int)value;
            total *= value;
        }

        var data = InputFile.ReadPromised(stream, total, path, $"{string.Join('x', dims)} bytes of data");
        if (!InputFile.AtEnd(stream))
        {
            throw new DatasetFormatException(path, $"has bytes after the {string.Join('x', dims)} elements its header declares.");
        }

        return (dims, data);
    }
}
