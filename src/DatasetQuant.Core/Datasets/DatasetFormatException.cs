namespace DatasetQuant.Core.Datasets;

/// <summary>An input file of a dataset (IDX, CIFAR binary, .npy) or an input spec is malformed. The message names the file.</summary>
public sealed class DatasetFormatException : Exception
{
    public DatasetFormatException(string path, string message)
        : base($"{path}: {message}")
    {
        FilePath = path;
    }

    public DatasetFormatException(string path, string message, Exception inner)
        : base($"{path}: {message}", inner)
    {
        FilePath = path;
    }

    /// <summary>The file (or spec) at fault.</summary>
    public string FilePath { get; }
}
