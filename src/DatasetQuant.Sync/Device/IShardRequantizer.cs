namespace DatasetQuant.Sync.Device;

/// <summary>
/// Shrinks a shard in place of a download: re-quantizes its codes to fewer bits so that the file fits a byte count.
/// The device side calls it when a budget drops and when a full-precision shard arrives for a budget below its size.
/// </summary>
public interface IShardRequantizer
{
    /// <summary>
    /// Writes to <paramref name="destinationPath"/> a copy of the shard at <paramref name="sourcePath"/> whose size is
    /// at most <paramref name="maxBytes"/>, and returns that size. Throws when the shard cannot be made that small
    /// (every sample dropped still leaves the header), naming the file.
    /// </summary>
    long Requantize(string sourcePath, string destinationPath, long maxBytes);
}
