namespace DatasetQuant.Core.Datasets;

/// <summary>
/// A dataset from two .npy files: images as uint8 (0..255) or float32 (0..1) shaped N×H×W, N×C×H×W or N×H×W×C
/// (channels-last is recognised when the last axis is 1, 3 or 4 and the second is not), and integer labels shaped N.
/// </summary>
public static class NpyDatasetReader
{
    public static ImageDataset Read(string imagesPath, string labelsPath, string name)
    {
        var images = NpyReader.Read(imagesPath);
        var labelsArray = NpyReader.Read(labelsPath);
        var shape = images.Shape;
        int n, c, h, w;
        bool channelsLast;
        switch (shape.Length)
        {
            case 3:
                (n, c, h, w, channelsLast) = (shape[0], 1, shape[1], shape[2], false);
                break;
            case 4 when IsChannelAxis(shape[1]) || !IsChannelAxis(shape[3]):
                (n, c, h, w, channelsLast) = (shape[0], shape[1], shape[2], shape[3], false);
                break;
            case 4:
                (n, c, h, w, channelsLast) = (shape[0], shape[3], shape[1], shape[2], true);
                break;
            default:
                throw new DatasetFormatException(imagesPath, $"images must be shaped N×H×W, N×C×H×W or N×H×W×C; this is ({string.Join(", ", shape)}).");
        }

        if (c < 1 || c > 16 || h < 1 || w < 1 || h > 65535 || w > 65535)
        {
            throw new DatasetFormatException(imagesPath, $"image shape {c}×{h}×{w} is not supported (1–16 channels, sides 1–65535).");
        }

        if (labelsArray.Shape.Length != 1 || labelsArray.Shape[0] != n)
        {
            throw new DatasetFormatException(labelsPath, $"labels must be shaped ({n},) to match {imagesPath}; this is ({string.Join(", ", labelsArray.Shape)}).");
        }

        if (labelsArray.DType == NpyDType.Float32)
        {
            throw new DatasetFormatException(labelsPath, "labels must be integers (uint8, int32 or int64), not float32.");
        }

        var pixels = ToBytes(images, imagesPath);
        if (channelsLast)
        {
            pixels = ToChannelsFirst(pixels, n, h, w, c);
        }

        var raw = labelsArray.ToInt64();
        var labels = new int[n];
        long max = 0;
        for (var i = 0; i < n; i++)
        {
            if (raw[i] is < 0 or > 65535)
            {
                throw new DatasetFormatException(labelsPath, $"label {raw[i]} of sample {i} is outside [0, 65535].");
            }

            labels[i] = (int)raw[i];
            max = Math.Max(max, raw[i]);
        }

        return new ImageDataset(name, c, h, w, (int)max + 1, pixels, labels);
    }

    private static bool IsChannelAxis(int size) => size is 1 or 3 or 4;

    private static byte[] ToBytes(NpyArray images, string path)
    {
        if (images.DType == NpyDType.UInt8)
        {
            return images.Data;
        }

        if (images.DType != NpyDType.Float32)
        {
            throw new DatasetFormatException(path, $"images must be uint8 or float32, not {images.DType}.");
        }

        var values = images.AsSingles();
        var bytes = new byte[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i];
            if (!(v >= 0f && v <= 1f))
            {
                throw new DatasetFormatException(path, $"float32 pixel {i} is {v}; float images must lie in [0, 1].");
            }

            bytes[i] = (byte)MathF.Round(v * 255f, MidpointRounding.ToEven);
        }

        return bytes;
    }

    private static byte[] ToChannelsFirst(byte[] hwc, int n, int h, int w, int c)
    {
        var chw = new byte[hwc.Length];
        var plane = h * w;
        for (var s = 0; s < n; s++)
        {
            var src = hwc.AsSpan(s * plane * c, plane * c);
            var dst = chw.AsSpan(s * plane * c, plane * c);
            for (var p = 0; p < plane; p++)
            {
                for (var ch = 0; ch < c; ch++)
                {
                    dst[ch * plane + p] = src[p * c + ch];
                }
            }
        }

        return chw;
    }
}
