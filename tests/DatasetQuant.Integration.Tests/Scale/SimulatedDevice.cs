using System.Security.Cryptography;
using DatasetQuant.Sync.Chunks;
using DatasetQuant.Sync.Messages;

namespace DatasetQuant.Integration.Tests.Scale;

/// <summary>
/// A device reduced to what coordinators see of it, for fleets of hundreds in one test process: it reports its flash
/// and what it holds, applies desired budgets whose version is above the one it applied (and keeps a ledger of every
/// one it saw), keeps a bitmap of the chunks of the current dataset version it has, and pulls what it lacks. No files,
/// no engine: the real device is tested elsewhere; this one exercises the coordinators. Thread-safe: the connection's
/// message pump and the test's driver both call it.
/// </summary>
public sealed class SimulatedDevice(string id, long availableBytes)
{
    private readonly object _gate = new();
    private readonly List<(long Version, long Bytes)> _applied = [];
    private readonly List<PullRecord> _pulls = [];
    private readonly HashSet<(long Version, int Shard, int Chunk)> _repaired = [];
    private long _lastReportMs;
    private DatasetManifest? _manifest;
    private ChunkBitmap[] _have = [];

    public string Id { get; } = id;

    /// <summary>Flash the device can give datasets (free + held); the test changes it to make budgets move.</summary>
    public long AvailableBytes { get; set; } = availableBytes;

    public long AppliedVersion { get; private set; }

    public long AppliedBytes { get; private set; }

    /// <summary>Desired budgets received with a version below the one applied (the wire went backwards).</summary>
    public int Regressions { get; private set; }

    /// <summary>Desired budgets received with the version applied already (a retained copy, a republish).</summary>
    public int Repeats { get; private set; }

    /// <summary>Chunks that arrived with bytes other than the shard's (never expected).</summary>
    public int CorruptChunks { get; private set; }

    public IReadOnlyList<(long Version, long Bytes)> Applied
    {
        get
        {
            lock (_gate)
            {
                return [.. _applied];
            }
        }
    }

    public IReadOnlyList<PullRecord> Pulls
    {
        get
        {
            lock (_gate)
            {
                return [.. _pulls];
            }
        }
    }

    /// <summary>Every chunk that arrived as a repair answer: (manifest version, shard id, chunk index).</summary>
    public IReadOnlyCollection<(long Version, int Shard, int Chunk)> RepairedChunks
    {
        get
        {
            lock (_gate)
            {
                return [.. _repaired];
            }
        }
    }

    public long? DatasetVersion
    {
        get
        {
            lock (_gate)
            {
                return _manifest?.Version;
            }
        }
    }

    public bool Complete
    {
        get
        {
            lock (_gate)
            {
                return _manifest is not null && _have.All(b => b.IsFull);
            }
        }
    }

    /// <summary>A new dataset version: nothing of it held yet.</summary>
    public void StartDataset(DatasetManifest manifest)
    {
        lock (_gate)
        {
            if (_manifest is not null && _manifest.Dataset == manifest.Dataset && _manifest.Version >= manifest.Version)
            {
                return;
            }

            _manifest = manifest;
            _have = manifest.Shards.Select(s => new ChunkBitmap(s.ChunkCount(manifest.ChunkSize))).ToArray();
        }
    }

    /// <summary>Forgets <paramref name="count"/> random chunks it has (flash lost them), so that it pulls them again.</summary>
    public void LoseChunks(int count, Random random)
    {
        lock (_gate)
        {
            for (var i = 0; i < count && _have.Length > 0; i++)
            {
                var shard = random.Next(_have.Length);
                _have[shard].Clear(random.Next(_have[shard].Count));
            }
        }
    }

    /// <summary>The retained state report: flash, what is held in full, the budget applied.</summary>
    public DeviceStateMessage State(DateTimeOffset now)
    {
        lock (_gate)
        {
            // Reports of one device must carry rising times, or the store keeps the older.
            var ms = Math.Max(now.ToUnixTimeMilliseconds(), _lastReportMs + 1);
            _lastReportMs = ms;
            var shards = new List<HeldShardState>();
            for (var i = 0; _manifest is not null && i < _have.Length; i++)
            {
                if (_have[i].IsFull)
                {
                    shards.Add(new HeldShardState { Id = _manifest.Shards[i].Id, Bytes = _manifest.Shards[i].Size });
                }
            }

            var held = shards.Sum(s => s.Bytes);
            return new DeviceStateMessage
            {
                Device = Id,
                FreeFlashBytes = Math.Max(0, AvailableBytes - held),
                HeldBytes = held,
                BudgetBytes = AppliedVersion > 0 ? AppliedBytes : null,
                BudgetVersion = AppliedVersion,
                UpdatedUtc = DateTimeOffset.FromUnixTimeMilliseconds(ms),
                Datasets = _manifest is null || shards.Count == 0 ? [] :
                    [new HeldDatasetState { Name = _manifest.Dataset, ManifestVersion = _manifest.Version, Complete = shards.Count == _have.Length, Shards = shards }],
            };
        }
    }

    /// <summary>Applies a desired budget if its version is above the one applied; returns the report to send, or null.</summary>
    public BudgetReportedMessage? OnBudget(BudgetDesiredMessage desired)
    {
        lock (_gate)
        {
            if (desired.Version < AppliedVersion)
            {
                Regressions++;
                return null;
            }

            if (desired.Version == AppliedVersion)
            {
                Repeats++;
                return null;
            }

            AppliedVersion = desired.Version;
            AppliedBytes = desired.Bytes;
            _applied.Add((desired.Version, desired.Bytes));
            return new BudgetReportedMessage { Device = Id, Version = desired.Version, BudgetBytes = desired.Bytes, UpdatedUtc = DateTimeOffset.UtcNow };
        }
    }

    /// <summary>Takes a chunk of the current version whose bytes match <paramref name="source"/>; marks pulls it completes.</summary>
    public void OnChunk(ChunkFrameHeader header, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> source)
    {
        lock (_gate)
        {
            if (_manifest is null || header.Dataset != _manifest.Dataset || header.ManifestVersion != _manifest.Version)
            {
                return;
            }

            var index = _manifest.Shards.FindIndex(s => s.Id == header.ShardId);
            if (index < 0 || !payload.SequenceEqual(source))
            {
                CorruptChunks++;
                return;
            }

            var chunk = (int)(header.Offset / _manifest.ChunkSize);
            _have[index].Set(chunk);

            // Only a repair answers a pull: a late broadcast chunk fills the bitmap but says nothing about the coordinator.
            if (header.IsRepair)
            {
                _repaired.Add((header.ManifestVersion, header.ShardId, chunk));
            }

            foreach (var pull in header.IsRepair ? _pulls : [])
            {
                if (pull.Waiting.Remove((header.ShardId, chunk)) && pull.Waiting.Count == 0)
                {
                    pull.AnsweredAt = DateTimeOffset.UtcNow;
                }
            }
        }
    }

    /// <summary>
    /// The pull for everything missing, or null when nothing is, or when the last pull is younger than
    /// <paramref name="retryAfter"/> and still waiting. The pull is recorded with the key the coordinator files it under.
    /// </summary>
    public (PullRequestMessage Pull, byte[] Payload)? NextPull(DateTimeOffset now, TimeSpan retryAfter)
    {
        lock (_gate)
        {
            if (_manifest is null || _have.All(b => b.IsFull))
            {
                return null;
            }

            if (_pulls.Count > 0 && _pulls[^1] is { AnsweredAt: null } last && now - last.SentAt < retryAfter)
            {
                return null;
            }

            var pull = new PullRequestMessage { Device = Id, Dataset = _manifest.Dataset, ManifestVersion = _manifest.Version };
            var waiting = new HashSet<(int, int)>();
            for (var i = 0; i < _have.Length; i++)
            {
                if (!_have[i].IsFull)
                {
                    var missing = _have[i].Invert();
                    pull.Shards.Add(new PullShard { Id = _manifest.Shards[i].Id, Missing = missing.ToWire() });
                    for (var c = 0; c < missing.Count; c++)
                    {
                        if (missing[c])
                        {
                            waiting.Add((_manifest.Shards[i].Id, c));
                        }
                    }
                }
            }

            var payload = SyncMessageCodec.Serialize(pull);
            _pulls.Add(new PullRecord(Convert.ToHexStringLower(SHA256.HashData(payload)[..16]), _manifest.Version, now, waiting));
            return (pull, payload);
        }
    }
}

/// <summary>
/// A pull a device sent: its key (as coordinators record it), the chunks it asked for, those still awaited, and when
/// the last of them arrived as a repair (possibly answering an earlier pull: frames do not say which pull they answer).
/// </summary>
public sealed class PullRecord(string key, long version, DateTimeOffset sentAt, HashSet<(int Shard, int Chunk)> waiting)
{
    public IReadOnlySet<(int Shard, int Chunk)> Wanted { get; } = new HashSet<(int Shard, int Chunk)>(waiting);

    public string Key { get; } = key;

    public long Version { get; } = version;

    public DateTimeOffset SentAt { get; } = sentAt;

    public HashSet<(int Shard, int Chunk)> Waiting { get; } = waiting;

    public DateTimeOffset? AnsweredAt { get; set; }
}
