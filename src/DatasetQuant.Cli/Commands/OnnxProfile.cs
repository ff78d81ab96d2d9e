using System.Text.Json;

namespace DatasetQuant.Cli.Commands;

/// <summary>
/// Reads the profile ONNX Runtime writes when profiling is on (a JSON array of Chrome trace events). Each call of Run
/// is one <c>model_run</c> event of category <c>Session</c> whose <c>dur</c> is the time spent inside Run, in µs.
/// </summary>
internal static class OnnxProfile
{
    /// <summary>The last <paramref name="count"/> model_run durations in ms, in run order; the file is deleted afterwards.</summary>
    public static double[] LastModelRuns(string path, int count)
    {
        var durations = new List<double>();
        try
        {
            using var stream = File.OpenRead(path);
            using var document = JsonDocument.Parse(stream);
            foreach (var e in document.RootElement.EnumerateArray())
            {
                if (e.TryGetProperty("name", out var name) && name.ValueEquals("model_run") && e.TryGetProperty("dur", out var dur))
                {
                    durations.Add(dur.GetDouble() / 1000);
                }
            }
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"ONNX Runtime profile '{path}' is not the JSON array it should be: {ex.Message}", ex);
        }
        finally
        {
            File.Delete(path);
        }

        if (durations.Count < count)
        {
            throw new InvalidDataException($"ONNX Runtime profile '{path}' has {durations.Count} model_run events, fewer than the {count} runs timed.");
        }

        return durations.GetRange(durations.Count - count, count).ToArray();
    }
}
