namespace DatasetQuant.Core.Datasets;

/// <summary>
/// Loads a dataset from one input spec:
/// <c>fashion-mnist[:train|:test]</c> (Debian's dataset-fashion-mnist files; alone it means train),
/// <c>idx:IMAGES[.gz],LABELS[.gz]</c>, <c>cifar:FILE.bin[,FILE.bin...]</c>, <c>npy:X.npy,Y.npy</c>.
/// </summary>
public static class DatasetSource
{
    /// <summary>Where Debian's dataset-fashion-mnist installs its files; <c>DQ_FASHION_MNIST_DIR</c> overrides it.</summary>
    public static string FashionMnistDirectory =>
        Environment.GetEnvironmentVariable("DQ_FASHION_MNIST_DIR") is { Length: > 0 } dir ? dir : "/usr/share/datasets/fashion-mnist";

    public const string Grammar = "fashion-mnist[:train|:test] | idx:IMAGES[.gz],LABELS[.gz] | cifar:FILE.bin[,FILE.bin...] | npy:X.npy,Y.npy";

    public static ImageDataset Load(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        var kind = colon < 0 ? spec : spec[..colon];
        var rest = colon < 0 ? string.Empty : spec[(colon + 1)..];
        var files = rest.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        switch (kind.ToLowerInvariant())
        {
            case "fashion-mnist":
                return LoadFashionMnist(rest.Length == 0 ? "train" : rest, spec);
            case "idx":
                RequireCount(spec, files, 2, "idx:IMAGES,LABELS");
                return IdxReader.Read(files[0], files[1], NameOf(files[0]));
            case "cifar":
                if (files.Length == 0)
                {
                    throw new DatasetFormatException(spec, "expected cifar:FILE.bin[,FILE.bin...].");
                }

                return CifarReader.Read(files, NameOf(files[0]));
            case "npy":
                RequireCount(spec, files, 2, "npy:X.npy,Y.npy");
                return NpyDatasetReader.Read(files[0], files[1], NameOf(files[0]));
            default:
                throw new DatasetFormatException(spec, $"unknown input kind '{kind}'; expected {Grammar}.");
        }
    }

    private static ImageDataset LoadFashionMnist(string split, string spec)
    {
        var prefix = split.ToLowerInvariant() switch
        {
            "train" => "train",
            "test" => "t10k",
            _ => throw new DatasetFormatException(spec, $"unknown Fashion-MNIST split '{split}'; expected train or test."),
        };
        var directory = FashionMnistDirectory;
        var images = Path.Combine(directory, $"{prefix}-images-idx3-ubyte.gz");
        if (!File.Exists(images))
        {
            throw new DatasetFormatException(images, "missing: install Debian's dataset-fashion-mnist (./build.sh --target=bootstrap) or set DQ_FASHION_MNIST_DIR.");
        }

        return IdxReader.Read(images, Path.Combine(directory, $"{prefix}-labels-idx1-ubyte.gz"), $"fashion-mnist-{split.ToLowerInvariant()}", classCount: 10);
    }

    private static void RequireCount(string spec, string[] files, int count, string form)
    {
        if (files.Length != count)
        {
            throw new DatasetFormatException(spec, $"expected {form}.");
        }
    }

    private static string NameOf(string path)
    {
        var name = Path.GetFileName(path);
        foreach (var suffix in new[] { ".gz", ".npy", ".bin", "-idx3-ubyte", ".idx3-ubyte" })
        {
            if (name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                name = name[..^suffix.Length];
            }
        }

        return name.Length == 0 ? "dataset" : name;
    }
}
