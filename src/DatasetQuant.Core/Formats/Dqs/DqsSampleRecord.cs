using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>
/// What the index says of one stored sample (docs/format.md §4): where its codes start in the payload, their width, the
/// quantizer's scale and centre shift, and the label. Version 1 stores every field in a 16-byte record; version 2
/// stores all but the offset, which follows from the widths before it (<see cref="DqsIndexCodec"/>).
/// </summary>
public readonly record struct DqsSampleRecord(uint Offset, float Scale, int Label, int Bits, int Shift)
{
    /// <summary>The quantizer the codes were made with.</summary>
    public QuantizationParameters Parameters => new(Scale, Shift);
}
