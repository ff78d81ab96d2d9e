using System.Text.Json;
using System.Text.Json.Serialization;
using DatasetQuant.Core.IO;

namespace DatasetQuant.Agent.FineTuning;

/// <summary>The last run, as written to <c>{DataDirectory}/fine-tune/last-run.json</c> (atomically).</summary>
public sealed record FineTuneReport(
    DateTimeOffset StartedAt,
    double DurationSeconds,
    string Trigger,
    bool Completed,
    string Message,
    double? HeldOutAccuracy,
    int TrainSamples,
    int GeneratorSamples,
    int HeldOutSamples,
    string? ModelPath,
    string ExecutionProvider)
{
    public const string RelativePath = "fine-tune/last-run.json";

    public static string PathIn(string dataDirectory) => Path.Combine(dataDirectory, RelativePath);

    public void WriteTo(string dataDirectory) =>
        AtomicFile.WriteAllBytes(PathIn(dataDirectory), JsonSerializer.SerializeToUtf8Bytes(this, FineTuneReportJson.Default.FineTuneReport));

    /// <summary>The last report, or null when there is none; a damaged file is an error naming it.</summary>
    public static FineTuneReport? ReadFrom(string dataDirectory)
    {
        var path = PathIn(dataDirectory);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), FineTuneReportJson.Default.FineTuneReport)
                ?? throw new InvalidDataException($"Fine-tune report '{path}' is empty (null).");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Fine-tune report '{path}' is not valid: {ex.Message}", ex);
        }
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(FineTuneReport))]
internal sealed partial class FineTuneReportJson : JsonSerializerContext;
