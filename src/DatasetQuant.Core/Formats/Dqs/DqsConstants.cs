namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>The numbers of docs/format.md. Change them only with a new version.</summary>
public static class DqsConstants
{
    /// <summary>0x89 'D' 'Q' 'S': the high byte catches 7-bit transfers, the letters name the format.</summary>
    public static ReadOnlySpan<byte> HeaderMagic => [0x89, (byte)'D', (byte)'Q', (byte)'S'];

    /// <summary>'D' 'Q' 'S' 'E': the footer's magic (E for end).</summary>
    public static ReadOnlySpan<byte> FooterMagic => [(byte)'D', (byte)'Q', (byte)'S', (byte)'E'];

    /// <summary>The version writers write: 2.0 (the compact index). Readers also read 1.0 and 1.1.</summary>
    public const ushort VersionMajor = 2;

    public const ushort VersionMinor = 0;

    /// <summary>The last minor version of 1.x (1.1 gave index byte 11 its meaning, the shift).</summary>
    public const ushort Version1Minor = 1;

    /// <summary>Codec 1: per-sample symmetric midrise linear quantization, bit-packed LSB first.</summary>
    public const ushort CodecSymmetricLinear = 1;

    /// <summary>Codec 2: range-coded bit planes of a nested per-sample grid (§14), version 2 only.</summary>
    public const ushort CodecPlanes = 2;

    /// <summary>Bytes of the header before the per-channel table.</summary>
    public const int FixedHeaderSize = 64;

    /// <summary>Bytes per channel in the header: mean and standard deviation as float32.</summary>
    public const int ChannelEntrySize = 8;

    /// <summary>Bytes of a version 1.x index record.</summary>
    public const int Version1RecordSize = 16;

    /// <summary>The most samples one version 2 payload checksum covers.</summary>
    public const int MaxChecksumBlock = 64;

    public const int FooterSize = 24;

    public const int ChecksumSize = 4;

    public const int MaxChannels = 16;

    public const int MaxSide = 4096;

    public const int MaxClassCount = 65536;

    /// <summary>
    /// The least channel standard deviation a header holds (0–255 scale): writers floor a constant channel's at it, and
    /// a smaller one would make standardised outputs overflow to infinity.
    /// </summary>
    public const float MinStandardDeviation = 1e-3f;

    /// <summary>
    /// The largest scale a record holds: binary16's largest finite value, so every 2.0 scale is within it, and a 1.x
    /// float32 scale is held to it too. A larger one puts the farthest levels, s·(2^(b−1) − 0.5), past float32's range,
    /// where the float decode's affine map no longer gives the clamped reconstruction.
    /// </summary>
    public const float MaxScale = 65504f;

    public const string FileExtension = ".dqs";

    public static int HeaderSize(int channels) => FixedHeaderSize + channels * ChannelEntrySize + ChecksumSize;
}
