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

    /// <summary>CPU cores of the board (0: not stated). The ONNX Runtime thread counts are chosen against it.</summary>
    public int Cores { get; set; }

    /// <summary>RAM of the smallest model of the board the config is written for (0: not stated).</summary>
    public long MemoryBytes { get; set; }

    /// <summary>Flash (SD card, eMMC or NVMe) the config assumes (0: not stated); Sync:FlashQuotaBytes is a share of it.</summary>
    public long FlashBytes { get; set; }
}
