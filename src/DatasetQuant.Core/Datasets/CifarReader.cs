namespace DatasetQuant.Core.Datasets;

/// <summary>
/// CIFAR binary batches: records of a label byte and 3072 pixel bytes (3×32×32, CHW) for CIFAR-10, or a coarse and a
/// fine label byte then the pixels for CIFAR-100 (the fine label is used). The kind is told by the record length.
/// </summary>
public static class CifarReader
{
    private const int PixelBytes = 3 * 32 * 32;
    private const int Cifar10Record = PixelBytes + 1;
    private const int Cifar100Record = PixelBytes + 2;

    public static ImageDataset Read(IReadOnlyList<string> paths, string name)
    {
        if (paths.Count == 0)
        {
            throw new DatasetFormatException(name, "no CIFAR batch files given.");
        }

        var recordSize = 0;
        long totalRecords = 0;
        foreach (var path in paths)
        {
            var size = RecordSize(path);
            if (recordSize != 0 && size != recordSize)
            {
                throw new DatasetFormatException(path, $"has {size}-byte records but {paths[0]} has {recordSize}-byte records; do not mix CIFAR-10 and CIFAR-100.");
            }

            recordSize = size;
            totalRecords += new FileInfo(path).Length / size;
        }

        if (totalRecords * PixelBytes > Array.MaxLength)
        {
            throw new DatasetFormatException(paths[0], $"{totalRecords} records do not fit one array.");
        }

        var pixels = new byte[totalRecords * PixelBytes];
        var labels = new int[totalRecords];
        var classCount = recordSize == Cifar10Record ? 10 : 100;
        var sample = 0;
        var record = new byte[recordSize];
        foreach (var path in paths)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            var count = stream.Length / recordSize;
            for (long r = 0; r < count; r++, sample++)
            {
                InputFile.ReadExactly(stream, record, path, $"record {r}");
                int label = recordSize == Cifar10Record ? record[0] : record[1];
                if (label >= classCount)
                {
                    throw new DatasetFormatException(path, $"record {r} has label {label}, outside [0, {classCount}).");
                }

                labels[sample] = label;
                record.AsSpan(recordSize - PixelBytes).CopyTo(pixels.AsSpan(sample * PixelBytes, PixelBytes));
            }
        }

        return new ImageDataset(name, 3, 32, 32, classCount, pixels, labels);
    }

    private static int RecordSize(string path)
    {
        if (!File.Exists(path))
        {
            throw new DatasetFormatException(path, "file not found.");
        }

        var length = new FileInfo(path).Length;
        var is10 = length > 0 && length % Cifar10Record == 0;
        var is100 = length > 0 && length % Cifar100Record == 0;
        return (is10, is100) switch
        {
            (true, false) => Cifar10Record,
            (false, true) => Cifar100Record,
            (true, true) => throw new DatasetFormatException(path, $"length {length} is a whole number of both CIFAR-10 ({Cifar10Record}-byte) and CIFAR-100 ({Cifar100Record}-byte) records; cannot tell which."),
            _ => throw new DatasetFormatException(path, $"length {length} is not a whole number of CIFAR-10 ({Cifar10Record}-byte) or CIFAR-100 ({Cifar100Record}-byte) records."),
        };
    }
}
