namespace DatasetQuant.Agent.Configuration;

/// <summary>
/// The <c>Sync</c> section as the agent checks it at start: where the broker is, who this device is, where its data
/// lives and which files secure it. DatasetQuant.Sync binds the same section for the protocol itself.
/// </summary>
public sealed class AgentSyncOptions
{
    public const string SectionName = "Sync";

    /// <summary><c>mqtt://host:port</c>, or <c>mqtts://host:port</c> with <see cref="CaFile"/>, <see cref="CertFile"/> and <see cref="KeyFile"/>.</summary>
    public string BrokerUrl { get; set; } = "";

    public string Fleet { get; set; } = "";

    /// <summary>This device's id; with TLS it must equal the certificate's CN, which the broker uses as the username.</summary>
    public string DeviceId { get; set; } = "";

    /// <summary>Shards, checkpoints and reports; the only directory the service may write (ReadWritePaths).</summary>
    public string DataDirectory { get; set; } = "";

    /// <summary>PEM public key that every dataset manifest must be signed with.</summary>
    public string CoordinatorKeyPath { get; set; } = "";

    /// <summary>The most bytes of flash the shards may take; null for no limit.</summary>
    public long? FlashQuotaBytes { get; set; }

    public string? CaFile { get; set; }

    public string? CertFile { get; set; }

    public string? KeyFile { get; set; }
}
