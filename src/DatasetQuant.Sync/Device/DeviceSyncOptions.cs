using DatasetQuant.Mqtt;

namespace DatasetQuant.Sync.Device;

/// <summary>The device side's settings, bound from the configuration section <c>Sync</c>.</summary>
public sealed class DeviceSyncOptions
{
    public const string SectionName = "Sync";

    /// <summary><c>mqtt://host:port</c>, or <c>mqtts://host:port</c> with <see cref="CaFile"/>, <see cref="CertFile"/> and <see cref="KeyFile"/>.</summary>
    public string BrokerUrl { get; set; } = "";

    public string Fleet { get; set; } = "";

    /// <summary>This device's id; with TLS it must equal the certificate's CN, which the broker uses as the username.</summary>
    public string DeviceId { get; set; } = "";

    /// <summary>Where shards, partial files and <c>sync-state.json</c> live (on a board, the service's only writable directory).</summary>
    public string DataDirectory { get; set; } = "";

    /// <summary>PEM file of the coordinator's ECDSA P-256 public key, pinned: manifests signed otherwise are refused.</summary>
    public string CoordinatorKeyPath { get; set; } = "";

    /// <summary>Flash the device gives to datasets at most, bytes; caps the coordinator's budget and the free flash reported.</summary>
    public long? FlashQuotaBytes { get; set; }

    public string? CaFile { get; set; }

    public string? CertFile { get; set; }

    public string? KeyFile { get; set; }

    /// <summary>
    /// True (default): a pushed generator whose mixing rule gives 0 at the shard bytes beside it is not held, and the
    /// shards get its bytes. False: it is held whenever it fits (dq-agent sets this when <c>FineTune:SyntheticRatio</c>
    /// is configured, since that share overrides the rule).
    /// </summary>
    public bool FollowGeneratorMixingRule { get; set; } = true;

    /// <summary>How long the broadcast must be silent before the device pulls what it lacks.</summary>
    public TimeSpan PullQuietPeriod { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a device that has never applied a budget waits after connecting before its first pull, unless a budget
    /// arrives sooner (zero: no wait). The coordinator answers a new device's first state report with its budget within
    /// moments; pulling meanwhile fetches what the quota alone keeps, a pull window of chunks the budget may drop at once.
    /// </summary>
    public TimeSpan FirstBudgetWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>First wait after an unanswered pull before pulling again; doubles up to a minute.</summary>
    public TimeSpan PullRetryInterval { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan StateReportInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Received messages waiting for the device beyond which chunks are dropped unread (and pulled later), so a
    /// broadcast faster than the flash cannot fill memory: 128 × 128 KiB = 16 MiB.
    /// </summary>
    public int MaxQueuedMessages { get; set; } = 128;

    /// <summary>Chunks asked for in one pull; the next pull follows once they arrived, so repairs are paced by the device.</summary>
    public int MaxChunksPerPull { get; set; } = 128;

    /// <summary>
    /// The MQTT session: client id <c>dq-{fleet}-{device}</c>, a clean start (what a device missed while away it
    /// pulls), the offline state as will, and the TLS files. The session holds up to twice
    /// <see cref="MaxQueuedMessages"/> received messages, so the engine sees a backlog beyond that limit and sheds
    /// chunks (pulled later) before the session makes the broker wait.
    /// </summary>
    public MqttConnectionOptions ToConnectionOptions(MqttMessage will) => new()
    {
        BrokerUri = BrokerUrl,
        ClientId = $"dq-{Fleet}-{DeviceId}",
        CleanStart = true,
        Will = will,
        ReceiveMaximum = Math.Min(2 * MaxQueuedMessages, ushort.MaxValue),
        TlsCaFile = string.IsNullOrEmpty(CaFile) ? null : CaFile,
        TlsCertificateFile = string.IsNullOrEmpty(CertFile) ? null : CertFile,
        TlsKeyFile = string.IsNullOrEmpty(KeyFile) ? null : KeyFile,
    };
}
