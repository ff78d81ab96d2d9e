namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>The numbers of docs/format.md. Change them only with a new version.</summary>
public static class DqsConstants
{
    /// <summary>0x89 'D' 'Q' 'S': the high byte catches 7-bit transfers, the letters name the format.</summary>
    public static ReadOnlySpan<byte> HeaderMagic => [0x89, (byte)'D', (byte)'Q', (byte)'S'];

    /// <summary>'D' 'Q' 'S' 'E': the footer's magic (E for end).</summary>
    public static ReadOnlySpan<byte> FooterMagic => [(byte)'D', (byte)'Q', (byte)'S', (byte)'E'];

    public const ushort VersionMajor = 1;

    public const ushort VersionMinor = 1;

    /// <summary>Codec 1: per-sample symmetric midrise linear quantization, bit-packed LSB first.</summary>
    public const ushort CodecSymmetricLinear = 1;

    /// <summary>Bytes of the header before the per-channel table.</summary>
    public const int FixedHeaderSize = 64;

    /// <summary>Bytes per channel in the header: mean and standard deviation as float32.</summary>
    public const int ChannelEntrySize = 8;

    public const int RecordSize = 16;

    public const int FooterSize = 24;

    public const int ChecksumSize = 4;

    public const int MaxChannels = 16;

    public const int MaxSide = 4096;

    public const int MaxClassCount = 65536;

    public const string FileExtension = ".dqs";

    public static int HeaderSize(int channels) => FixedHeaderSize + channels * ChannelEntrySize + ChecksumSize;

    /// <summary>Header + index + index checksum + footer: the bytes a shard holds beyond its payload.</summary>
    public static long Overhead(int channels, long samples) => HeaderSize(channels) + samples * RecordSize + ChecksumSize + FooterSize;
}
