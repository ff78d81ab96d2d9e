namespace DatasetQuant.Agent.Configuration;

/// <summary>The <c>Device</c> section: what board this is and how much memory the agent may use on it.</summary>
public sealed class DeviceOptions
{
    public const string SectionName = "Device";

    /// <summary>Board name as in device-configs/ (rpi-4, jetson-orin-nano, ...), for logs and the state report.</summary>
    public string Board { get; set; } = "";

    /// <summary>
    /// Memory the agent may use in all (the systemd unit's MemoryMax should match): training sizes its batches and
    /// the ONNX Runtime arena to stay under it.
    /// </summary>
    public long MemoryLimitBytes { get; set; }
}
