namespace DatasetQuant.Sync.Device;

/// <summary>Free flash for datasets: what statvfs reports for the data directory's file system, capped by a quota.</summary>
internal static class FlashSpace
{
    public static long? Free(string dataDirectory, long? quotaBytes, long heldBytes)
    {
        long? available = null;
        try
        {
            available = new DriveInfo(Path.GetFullPath(dataDirectory)).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Reported as unknown; the coordinator plans with what it has.
        }

        if (quotaBytes is { } quota)
        {
            var left = Math.Max(0, quota - heldBytes);
            return available is { } a ? Math.Min(a, left) : left;
        }

        return available;
    }
}
