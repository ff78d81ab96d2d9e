namespace DatasetQuant.Training.Checkpoints;

/// <summary>
/// The .dqck training checkpoint, little-endian, with each field as errors name it:
/// <code>
///  0 u32  magic "DQCK"            4 u16 version (1)          6 u16 layerSizeCount n (2..64)
///  8 i64  seed                   16 i32 completedEpochs      20 i32 nextBatch (in the epoch)
/// 24 i64  step (optimizer)       32 i32 batchSize            36 i32 plannedEpochs
/// 40 i32  samplesPerEpoch        44 i32 parameterCount P     48 i32 × n layerSizes
///         f32 × P parameters, f32 × P velocity (momentum)
///         u32 CRC-32C of every byte before it
/// </code>
/// With S = ceil(samplesPerEpoch / batchSize) batches per epoch, a reader also refuses: batchSize, plannedEpochs or
/// samplesPerEpoch below 1; completedEpochs outside 0..plannedEpochs; nextBatch outside 0..S−1, or not 0 once every
/// planned epoch is done; a step other than completedEpochs·S + nextBatch (the trainer counts every batch, and the
/// learning-rate schedule follows that count); a parameter or velocity that is not finite (the trainer never applies a
/// non-finite gradient, so no run it wrote has one).
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
