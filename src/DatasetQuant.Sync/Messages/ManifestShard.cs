using System.Text.Json.Serialization;

namespace DatasetQuant.Sync.Messages;

/// <summary>One file of a manifest: its name on the device, size, SHA-256 and what it holds; a layer or prefix entry says where it sits.</summary>
public sealed class ManifestShard
{
    [JsonRequired]
    public int Id { get; init; }

    /// <summary>File name on the device, for example <c>train-000.dqs</c>.</summary>
    [JsonRequired]
    public string Name { get; init; } = "";

    [JsonRequired]
    public long Size { get; init; }

    /// <summary>Lower-case hex SHA-256 of the whole shard file.</summary>
    [JsonRequired]
    public string Sha256 { get; init; } = "";

    /// <summary>Bits of quantized payload in the shard (its bit budget).</summary>
    [JsonRequired]
    public long BitBudget { get; init; }

    /// <summary>Mean bits per pixel, rounded to 3 decimals (it is signed as an integer count of milli-bits).</summary>
    [JsonRequired]
    public double BitsPerPixel { get; init; }

    [JsonRequired]
    public long SampleCount { get; init; }

    /// <summary>In a layered manifest, where this file sits in the dataset's layers; null otherwise.</summary>
    public ManifestLayer? Layer { get; init; }

    /// <summary>In a <see cref="DatasetManifest.PrefixesFormat"/> manifest, the prefix of layers this file is part of; null otherwise.</summary>
    public ManifestPrefix? Prefix { get; init; }

    public int ChunkCount(int chunkSize) => (int)((Size + chunkSize - 1) / chunkSize);

    internal string? Validate()
    {
        if (Id < 0)
        {
            return $"field 'id' is negative ({Id})";
        }

        if (!SyncNames.IsValid(Name))
        {
            return $"field 'name' is not a valid file name ('{Name}')";
        }

        if (Size is <= 0 or > DatasetManifest.MaxShardSize)
        {
            return $"field 'size' is {Size}, expected 1..{DatasetManifest.MaxShardSize}";
        }

        if (Sha256 is null || Sha256.Length != 64 || !IsLowerHex(Sha256))
        {
            return $"field 'sha256' is not 64 lower-case hex digits ('{Sha256}')";
        }

        if (BitBudget < 0 || SampleCount < 0 || !(BitsPerPixel >= 0 && BitsPerPixel <= 64))
        {
            return "fields 'bitBudget', 'bitsPerPixel' and 'sampleCount' must be non-negative (bitsPerPixel at most 64)";
        }

        return null;
    }

    private static bool IsLowerHex(string value)
    {
        foreach (var c in value)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
