namespace DatasetQuant.Training.Checkpoints;

/// <summary>
/// The .dqck training checkpoint, little-endian:
/// <code>
///  0 u32  magic "DQCK"          4 u16 version (1)        6 u16 layer-size count n
///  8 i64  seed                 16 i32 completed epochs  20 i32 next batch in the epoch
/// 24 i64  optimizer steps      32 i32 batch size        36 i32 planned epochs
/// 40 i32  samples per epoch    44 i32 parameter count P 48 i32 × n layer sizes
///         f32 × P parameters, f32 × P momentum velocity
///         u32 CRC-32C of every byte before it
/// </code>
/// </summary>
internal static class CheckpointConstants
{
    public const uint Magic = 0x4B435144; // "DQCK"
    public const ushort Version = 1;
    public const int FixedHeaderSize = 48;
    public const int MaxLayerSizes = 64;
    public const int CrcSize = 4;

    public static long FileSize(int layerSizes, int parameters) =>
        FixedHeaderSize + (4L * layerSizes) + (8L * parameters) + CrcSize;
}
