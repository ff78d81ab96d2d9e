using System.Text.Json;
using DatasetQuant.Sync.IO;
using DatasetQuant.Sync.Messages;

namespace DatasetQuant.Sync.Device;

/// <summary>
/// <c>{data-dir}/sync-state.json</c>: the budget the device applied and, per dataset, the manifest version it took
/// and the shards it holds. Replaced atomically (<see cref="DurableFile"/>) on every change.
/// </summary>
public sealed class DeviceSyncStateFile
{
    public int Schema { get; set; } = SyncSchema.Current;

    public long BudgetVersion { get; set; }

    public long? BudgetBytes { get; set; }

    public Dictionary<string, DatasetHoldings> Datasets { get; set; } = new(StringComparer.Ordinal);

    internal static DeviceSyncStateFile Load(string path)
    {
        if (!File.Exists(path))
        {
            return new DeviceSyncStateFile();
        }

        try
        {
            var state = JsonSerializer.Deserialize(File.ReadAllBytes(path), SyncJsonContext.Default.DeviceSyncStateFile);
            if (state is null || state.Schema != SyncSchema.Current || state.Datasets is null)
            {
                throw new InvalidDataException($"device state file '{path}' has schema {state?.Schema} or no datasets");
            }

            return state;
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"device state file '{path}' is not valid JSON: {ex.Message}", ex);
        }
    }

    internal void Save(string path) => DurableFile.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(this, SyncJsonContext.Default.DeviceSyncStateFile));
}

public sealed class DatasetHoldings
{
    /// <summary>The verified signed manifest as received, so one atomic write covers the version and the holdings.</summary>
    public SignedManifestMessage Signed { get; set; } = new();

    /// <summary>Shard files held; for a layered dataset, the layer files received and not yet applied.</summary>
    public List<HeldShard> Shards { get; set; } = [];

    /// <summary>A layered dataset (protocol versions 2 and 3): layers applied to its single shard <c>{name}.dqs</c>.</summary>
    public int LayersApplied { get; set; }

    /// <summary>
    /// Format 3: the prefixes (by layer count) of this manifest version the device no longer takes, since their files
    /// failed their SHA-256 twice or did not open as their layers' copy; it takes the layers instead. Null when none.
    /// </summary>
    public List<int>? RefusedPrefixes { get; set; }

    /// <summary>A layered dataset: bytes of its shard and held increments (<c>{name}.dqs</c>, <c>{name}.dqh</c>).</summary>
    public long LayeredBytes { get; set; }

    /// <summary>Bytes of chunk messages received for this manifest version (frame headers and duplicates included).</summary>
    public long ReceivedBytes { get; set; }

    public HeldShard? Find(int id) => Shards.Find(s => s.Id == id);
}

public sealed class HeldShard
{
    public const string Full = "full";
    public const string Requantized = "requantized";

    /// <summary>A layer merged into its dataset's shard (reported, never stored: the layer file is deleted once applied).</summary>
    public const string Applied = "applied";

    /// <summary>Deliberately not held: the budget leaves it no room (or it could not be made small enough).</summary>
    public const string Dropped = "dropped";

    public int Id { get; set; }

    public long Bytes { get; set; }

    public string Precision { get; set; } = Full;
}
