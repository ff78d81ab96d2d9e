namespace DatasetQuant.Core.Quantization;

/// <summary>
/// How one sample is quantized at its width: the bin width <see cref="Scale"/> and the <see cref="Shift"/> of its
/// quantizer's centre from the dataset's channel mean, in whole pixel levels (docs/format.md §6). Bins are symmetric
/// around μ_c + shift; re-quantizing to fewer bits refits both to the values the wider codes decode to.
/// </summary>
public readonly record struct QuantizationParameters(float Scale, int Shift)
{
    /// <summary>The shifts a record can hold (a signed byte).</summary>
    public const int MinShift = sbyte.MinValue;

    public const int MaxShift = sbyte.MaxValue;

    /// <summary>Whether a writer may store these parameters: a positive finite scale and a shift in [−128, 127].</summary>
    public bool IsValid => Scale > 0f && !float.IsInfinity(Scale) && Shift is >= MinShift and <= MaxShift;

    public override string ToString() => $"scale {Scale}, shift {Shift}";
}
