using DatasetQuant.Mqtt;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Sync.Device;

/// <summary>The device side's settings, bound from the configuration section <c>Sync</c>.</summary>
public sealed class DeviceSyncOptions
{
    public const string SectionName = "Sync";

    /// <summary><c>mqtt://host:port</c> or <c>mqtts://host:port</c>.</summary>
    public string BrokerUrl { get; set; } = "";

    public string Fleet { get; set; } = "";

    public string DeviceId { get; set; } = "";

    /// <summary>Where shards, partial files and <c>sync-state.json</c> live.</summary>
    public string DataDirectory { get; set; } = "";

    /// <summary>PEM file of the coordinator's ECDSA P-256 public key, pinned: manifests signed otherwise are refused.</summary>
    public string CoordinatorKeyPath { get; set; } = "";

    /// <summary>Flash the device gives to datasets at most, bytes; caps the coordinator's budget and the free flash reported.</summary>
    public long? FlashQuotaBytes { get; set; }

    public string? CaFile { get; set; }

    public string? CertFile { get; set; }

    public string? KeyFile { get; set; }

    /// <summary>How long the broadcast must be silent before the device pulls what it lacks.</summary>
    public TimeSpan PullQuietPeriod { get; set; } = TimeSpan.FromSeconds(2);

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
    /// pulls), the offline state as will, and the TLS files.
    /// </summary>
    public MqttConnectionOptions ToConnectionOptions(MqttMessage will) => new()
    {
        BrokerUri = BrokerUrl,
        ClientId = $"dq-{Fleet}-{DeviceId}",
        CleanStart = true,
        Will = will,
        TlsCaFile = string.IsNullOrEmpty(CaFile) ? null : CaFile,
        TlsCertificateFile = string.IsNullOrEmpty(CertFile) ? null : CertFile,
        TlsKeyFile = string.IsNullOrEmpty(KeyFile) ? null : KeyFile,
    };
}

/// <summary>Checks <see cref="DeviceSyncOptions"/> at start and says which setting is wrong and how.</summary>
internal sealed class DeviceSyncOptionsValidator : IValidateOptions<DeviceSyncOptions>
{
    public ValidateOptionsResult Validate(string? name, DeviceSyncOptions options)
    {
        var failures = new List<string>();
        if (!Uri.TryCreate(options.BrokerUrl, UriKind.Absolute, out var broker) || broker.Scheme is not ("mqtt" or "mqtts") || broker.Host.Length == 0)
        {
            failures.Add($"Sync:BrokerUrl '{options.BrokerUrl}' must be mqtt://HOST:PORT or mqtts://HOST:PORT (--broker).");
        }

        if (!SyncNames.IsValid(options.Fleet))
        {
            failures.Add($"Sync:Fleet '{options.Fleet}' must be 1..64 characters of A-Z a-z 0-9 . _ - (--fleet).");
        }

        if (!SyncNames.IsValid(options.DeviceId))
        {
            failures.Add($"Sync:DeviceId '{options.DeviceId}' must be 1..64 characters of A-Z a-z 0-9 . _ - (--device-id).");
        }

        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            failures.Add("Sync:DataDirectory is required (--data-dir).");
        }

        if (string.IsNullOrWhiteSpace(options.CoordinatorKeyPath) || !File.Exists(options.CoordinatorKeyPath))
        {
            failures.Add($"Sync:CoordinatorKeyPath '{options.CoordinatorKeyPath}' must name the coordinator's public key PEM file (--coordinator-key).");
        }

        if (options.FlashQuotaBytes is <= 0)
        {
            failures.Add($"Sync:FlashQuotaBytes must be positive when set ({options.FlashQuotaBytes}).");
        }

        foreach (var (key, path) in new[] { ("CaFile", options.CaFile), ("CertFile", options.CertFile), ("KeyFile", options.KeyFile) })
        {
            if (!string.IsNullOrEmpty(path) && !File.Exists(path))
            {
                failures.Add($"Sync:{key} '{path}' does not exist.");
            }
        }

        if (string.IsNullOrEmpty(options.CertFile) != string.IsNullOrEmpty(options.KeyFile))
        {
            failures.Add("Sync:CertFile and Sync:KeyFile go together: give both or neither.");
        }

        if (options.MaxQueuedMessages < 1 || options.MaxChunksPerPull < 1)
        {
            failures.Add("Sync:MaxQueuedMessages and Sync:MaxChunksPerPull must be at least 1.");
        }

        if (options.PullQuietPeriod <= TimeSpan.Zero || options.PullRetryInterval <= TimeSpan.Zero || options.StateReportInterval <= TimeSpan.Zero)
        {
            failures.Add("Sync:PullQuietPeriod, Sync:PullRetryInterval and Sync:StateReportInterval must be positive.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
