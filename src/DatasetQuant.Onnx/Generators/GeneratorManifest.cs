using System.Text.Json;
using System.Text.Json.Serialization;

namespace DatasetQuant.Onnx.Generators;

/// <summary>
/// <c>G.json</c> beside <c>G.onnx</c>: how to condition a generator, how big its noise is, what it outputs and how to
/// turn its output into normalised training pixels. <see cref="Validate"/> checks it against the model's own metadata.
/// </summary>
public sealed class GeneratorManifest
{
    public const string CurrentFormat = "dq-generator/1";
    public const string OneHotPrefix = "onehot-prefix";
    public const string LabelInput = "label-input";

    [JsonPropertyName("format")]
    public string Format { get; set; } = CurrentFormat;

    /// <summary>What the weights are: <c>linear-gaussian</c>, <c>dim-random</c> (architecture only) or <c>dim</c> (a trained DiM).</summary>
    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "dim";

    [JsonPropertyName("dataset")]
    public string Dataset { get; set; } = string.Empty;

    /// <summary><c>onehot-prefix</c> (the official DiM: the first C noise entries are the one-hot label) or <c>label-input</c>.</summary>
    [JsonPropertyName("conditioning")]
    public string Conditioning { get; set; } = OneHotPrefix;

    [JsonPropertyName("noiseInput")]
    public string NoiseInput { get; set; } = "noise";

    /// <summary>The int64 [N] label input, for <c>label-input</c> conditioning only.</summary>
    [JsonPropertyName("labelInput")]
    public string? LabelInputName { get; set; }

    [JsonPropertyName("output")]
    public string Output { get; set; } = "image";

    [JsonPropertyName("noiseSize")]
    public int NoiseSize { get; set; } = 100;

    [JsonPropertyName("classCount")]
    public int ClassCount { get; set; } = 10;

    [JsonPropertyName("channels")]
    public int Channels { get; set; } = 1;

    [JsonPropertyName("height")]
    public int Height { get; set; } = 28;

    [JsonPropertyName("width")]
    public int Width { get; set; } = 28;

    [JsonPropertyName("layout")]
    public string Layout { get; set; } = "NCHW";

    /// <summary>The range of the raw output, [-1, 1] for tanh; samples are mapped to [0, 1] from it.</summary>
    [JsonPropertyName("valueRange")]
    public float[] ValueRange { get; set; } = [-1f, 1f];

    /// <summary>Per-channel dataset mean and std (of [0,1] pixels) used to normalise samples.</summary>
    [JsonPropertyName("mean")]
    public float[] Mean { get; set; } = [0f];

    [JsonPropertyName("std")]
    public float[] Std { get; set; } = [1f];

    /// <summary>
    /// How much of a fine-tuning pass to draw from this generator, by the shard bytes a device holds: written from
    /// the measured bytes-versus-accuracy frontier (<c>dq experiment generator-frontier --write-mixing</c>); absent
    /// means the device's own setting decides.
    /// </summary>
    [JsonPropertyName("mixing")]
    public List<GeneratorMixing>? Mixing { get; set; }

    [JsonIgnore]
    public int SampleSize => Channels * Height * Width;

    /// <summary>
    /// The synthetic share for a device holding <paramref name="shardBytes"/> of shards: the entry measured nearest
    /// on a log scale (below the first entry, the first; above the last, the last); null without a rule.
    /// </summary>
    public double? MixingRatioFor(long shardBytes)
    {
        return Mixing is null ? null : DatasetQuant.Core.Datasets.SyntheticMixing.RatioFor(Mixing.Select(m => (m.ShardBytes, m.Ratio)), shardBytes);
    }

    /// <summary>The manifest path for a model: <c>G.onnx</c> → <c>G.json</c>.</summary>
    public static string PathFor(string modelPath) => Path.ChangeExtension(modelPath, ".json");

    public static GeneratorManifest Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new GeneratorManifestException(path, "file", "the manifest does not exist (every generator .onnx needs a .json manifest beside it)");
        }

        GeneratorManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(File.ReadAllBytes(path), GeneratorManifestJsonContext.Default.GeneratorManifest);
        }
        catch (JsonException ex)
        {
            throw new GeneratorManifestException(path, ex.Path ?? "$", $"invalid JSON: {ex.Message}");
        }

        if (manifest is null)
        {
            throw new GeneratorManifestException(path, "$", "the manifest is null");
        }

        manifest.CheckSelf(path);
        return manifest;
    }

    public void Save(string path) =>
        DatasetQuant.Core.IO.AtomicFile.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(this, GeneratorManifestJsonContext.Default.GeneratorManifest));

    /// <summary>Checks the manifest against the model's inputs and outputs; <paramref name="source"/> names the manifest in errors.</summary>
    public void Validate(OnnxSession session, string source)
    {
        CheckSelf(source);
        var noise = Find(session.Inputs, NoiseInput, "noiseInput", source, "input");
        if (noise.ElementType != OnnxElementType.Float || noise.Shape.Length != 2 || (noise.Shape[1] >= 0 && noise.Shape[1] != NoiseSize))
        {
            throw new GeneratorManifestException(source, "noiseSize", $"says float32 [N,{NoiseSize}] but model input is {noise}");
        }

        var expectedInputs = Conditioning == LabelInput ? 2 : 1;
        if (Conditioning == LabelInput)
        {
            var label = Find(session.Inputs, LabelInputName!, "labelInput", source, "input");
            if (label.ElementType != OnnxElementType.Int64 || label.Shape.Length != 1)
            {
                throw new GeneratorManifestException(source, "labelInput", $"must be an int64 [N] input but the model has {label}");
            }
        }

        if (session.Inputs.Count != expectedInputs)
        {
            throw new GeneratorManifestException(source, "conditioning",
                $"'{Conditioning}' means {expectedInputs} input(s) but the model has {session.Inputs.Count} ({string.Join(", ", session.Inputs)})");
        }

        var output = Find(session.Outputs, Output, "output", source, "output");
        long[] expected = [-1, Channels, Height, Width];
        var matches = output.ElementType == OnnxElementType.Float && output.Shape.Length == 4;
        for (var axis = 1; matches && axis < 4; axis++)
        {
            matches = output.Shape[axis] < 0 || output.Shape[axis] == expected[axis];
        }

        if (!matches)
        {
            throw new GeneratorManifestException(source, "channels/height/width",
                $"say float32 [N,{Channels},{Height},{Width}] but the model output is {output}");
        }
    }

    private void CheckSelf(string source)
    {
        void Require(bool ok, string field, string message)
        {
            if (!ok)
            {
                throw new GeneratorManifestException(source, field, message);
            }
        }

        Require(Format == CurrentFormat, "format", $"'{Format}' is not '{CurrentFormat}'");
        Require(Conditioning is OneHotPrefix or LabelInput, "conditioning", $"'{Conditioning}' is neither '{OneHotPrefix}' nor '{LabelInput}'");
        Require(Conditioning != LabelInput || !string.IsNullOrEmpty(LabelInputName), "labelInput", "is required with label-input conditioning");
        Require(ClassCount is > 0 and <= 100_000, "classCount", $"{ClassCount} is out of range 1..100000");
        Require(NoiseSize is > 0 and <= 1_000_000, "noiseSize", $"{NoiseSize} is out of range 1..1000000");
        Require(Conditioning != OneHotPrefix || ClassCount <= NoiseSize, "classCount", $"{ClassCount} classes do not fit a one-hot prefix of noise size {NoiseSize}");
        Require(Channels is > 0 and <= 64 && Height is > 0 and <= 4096 && Width is > 0 and <= 4096, "channels/height/width", $"{Channels}x{Height}x{Width} is out of range");
        Require(Layout == "NCHW", "layout", $"'{Layout}' is not NCHW (the only layout supported)");
        Require(ValueRange is { Length: 2 } && ValueRange[1] > ValueRange[0], "valueRange", "must be [min, max] with max > min");
        Require(Mean is not null && Mean.Length == Channels, "mean", $"needs {Channels} value(s), one per channel");
        Require(Std is not null && Std.Length == Channels && Std.All(s => s > 0 && float.IsFinite(s)), "std", $"needs {Channels} positive value(s)");
        Require(Mixing is null || Mixing.All(m => m is not null && m.ShardBytes > 0 && m.Ratio is >= 0 and < 1), "mixing",
            "entries need shardBytes > 0 and a ratio in [0, 1)");
    }

    private static OnnxTensorInfo Find(IReadOnlyList<OnnxTensorInfo> list, string name, string field, string source, string what)
    {
        foreach (var info in list)
        {
            if (string.Equals(info.Name, name, StringComparison.Ordinal))
            {
                return info;
            }
        }

        throw new GeneratorManifestException(source, field, $"names {what} '{name}' but the model's {what}s are: {string.Join(", ", list.Select(i => i.Name))}");
    }
}

/// <summary>One point of a generator's mixing rule: at this many shard bytes, this share of a pass is synthetic.</summary>
public sealed class GeneratorMixing
{
    [JsonPropertyName("shardBytes")]
    public long ShardBytes { get; set; }

    [JsonPropertyName("ratio")]
    public double Ratio { get; set; }
}

[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GeneratorManifest))]
internal sealed partial class GeneratorManifestJsonContext : JsonSerializerContext;
