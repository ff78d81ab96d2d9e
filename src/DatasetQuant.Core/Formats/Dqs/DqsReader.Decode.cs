namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>Decoding: a sample into float32 (SIMD, normalised) or uint8, a batch, or its raw codes. Nothing is allocated.</summary>
public sealed unsafe partial class DqsReader
{
    /// <summary>Decodes a sample as float32 (CHW) normalised as <paramref name="normalization"/> says.</summary>
    public void Decode(int sample, Span<float> destination, DqsNormalization normalization)
    {
        ArgumentNullException.ThrowIfNull(normalization);
        if (destination.Length < PixelsPerSample || normalization.Channels != _header.Channels)
        {
            throw new ArgumentException($"decoding needs {PixelsPerSample} floats and {_header.Channels} normalisation channels; got {destination.Length} and {normalization.Channels}.");
        }

        CheckSample(sample);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_planes is not null)
        {
            DecodePlanes(sample, destination, normalization);
            return;
        }

        // Opening checked every record (width, offset, and that the payloads tile the payload section), so the record
        // and its codes are read here without further bounds checks.
        var record = ReadRecord(sample);
        var length = (int)(((long)PixelsPerSample * record.Bits + 7) >> 3);
        // The footer (24 bytes) always follows the payload, so 16 bytes past any sample's codes are inside the file:
        // the vector loop may load them (never decoding them) and needs no padded tail for the last group.
        var readable = new ReadOnlySpan<byte>(_payload + record.Offset, length + DecodeSlack);
        VerifyOnce(sample, readable[..length]);
        var offset = SampleQuantizerOffset(record.Bits);
        var multipliers = normalization.MultiplierArray;
        var addends = normalization.AddendArray;
        for (var c = 0; c < multipliers.Length; c++)
        {
            var a = multipliers[c];
            var b = addends[c];
            // x̂ = μ + t + s·(u + k)  ⇒  out = u·(s·a) + (μ + t + s·k)·a + b, clamped to the image of [0, 255].
            DqsSimdDecoder.Decode(readable, record.Bits, c * _plane, destination.Slice(c * _plane, _plane),
                record.Scale * a, (_mean[c] + record.Shift + (record.Scale * offset)) * a + b, b, 255f * a + b);
        }
    }

    /// <summary>Decodes a sample as uint8 (CHW): round-half-up of the clamped reconstruction.</summary>
    public void Decode(int sample, Span<byte> destination)
    {
        if (destination.Length < PixelsPerSample)
        {
            throw new ArgumentException($"decoding needs {PixelsPerSample} bytes; got {destination.Length}.", nameof(destination));
        }

        if (_planes is not null)
        {
            CheckSample(sample);
            DecodePlanes(sample, destination);
            return;
        }

        var record = Record(sample);
        var payload = Payload(sample, record);
        var offset = SampleQuantizerOffset(record.Bits);
        Span<byte> table = stackalloc byte[256];
        for (var c = 0; c < _header.Channels; c++)
        {
            for (var u = 0; u < 1 << record.Bits; u++)
            {
                var x = Math.Clamp(_mean[c] + record.Shift + (record.Scale * (u + offset)), 0f, 255f);
                table[u] = (byte)MathF.Floor(x + 0.5f);
            }

            var target = destination.Slice(c * _plane, _plane);
            DqsBitPacking.Unpack(payload, record.Bits, c * _plane, target);
            for (var p = 0; p < target.Length; p++)
            {
                target[p] = table[target[p]];
            }
        }
    }

    /// <summary>Decodes samples [first, first + count) into consecutive CHW blocks, and their labels.</summary>
    public void DecodeBatch(int first, int count, Span<float> destination, Span<int> labels, DqsNormalization normalization)
    {
        if ((uint)first > (uint)Count || (uint)count > (uint)(Count - first))
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"samples [{first}, {first + count}) are not all in {Path} ({Count} samples).");
        }

        if (destination.Length < (long)count * PixelsPerSample || labels.Length < count)
        {
            throw new ArgumentException($"a batch of {count} needs {(long)count * PixelsPerSample} floats and {count} labels.");
        }

        for (var k = 0; k < count; k++)
        {
            Decode(first + k, destination.Slice(k * PixelsPerSample, PixelsPerSample), normalization);
            labels[k] = Label(first + k);
        }
    }

    /// <summary>The raw codes (one per byte) of a sample.</summary>
    public void ReadCodes(int sample, Span<byte> codes)
    {
        var record = Record(sample);
        DqsBitPacking.Unpack(Payload(sample, record), record.Bits, 0, codes[..PixelsPerSample]);
    }

    private static float SampleQuantizerOffset(int bits) => 0.5f - (1 << (bits - 1));
}
