using System.Security.Cryptography;
using System.Text.Json.Nodes;
using DatasetQuant.Mqtt;

namespace DatasetQuant.Sync.Tests.Mutation;

/// <summary>
/// Drives one device of a <see cref="SyncTestBed"/> message by message, without a broker: each message is followed by a
/// marker on a topic the device does not handle, whose log line says the message before it has been handled (one loop
/// handles both in order). Also takes what the device holds apart for comparison: the files of a dataset by hash, and
/// a dataset's entry in <c>sync-state.json</c>.
/// </summary>
internal sealed class MutationHarness(SyncTestBed bed, TestDevice device)
{
    private int _markers;

    public string DataDirectory => device.Options.DataDirectory;

    public string StatePath => Path.Combine(DataDirectory, "sync-state.json");

    /// <summary>Sends one message and returns the device's log lines while it handled it.</summary>
    public async Task<IReadOnlyList<string>> SendAsync(string topic, byte[] payload)
    {
        var from = bed.Log.Lines.Count;
        var marker = $"{bed.Topics.Prefix}mutation/marker-{++_markers}";
        bed.Broker.SendTo(device.Id, new MqttMessage(topic, payload));
        bed.Broker.SendTo(device.Id, new MqttMessage(marker, "{}"u8.ToArray()));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var lines = bed.Log.Lines;
            var end = IndexOf(lines, from, marker);
            if (end >= 0)
            {
                return lines.Skip(from).Take(end - from).Where(l => l.Contains(" DeviceSyncEngine: ", StringComparison.Ordinal)).ToList();
            }

            if (DateTime.UtcNow > deadline || device.Run!.IsCompleted)
            {
                throw new TimeoutException(
                    $"the device did not handle a message on {topic} within 10 s (engine {(device.Run!.IsCompleted ? "stopped: " + device.Run.Exception : "running")})");
            }

            await Task.Delay(1);
        }
    }

    /// <summary>Every file under the dataset's directory, by relative name, with its SHA-256.</summary>
    public Dictionary<string, string> Files(string dataset)
    {
        var directory = device.DatasetDirectory(dataset);
        return Directory.Exists(directory)
            ? Directory.GetFiles(directory).ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f))))
            : [];
    }

    /// <summary>The dataset's entry in the state file, without the received-bytes counter (which counts frames, not holdings).</summary>
    public string? StateOf(string dataset)
    {
        var entry = JsonNode.Parse(File.ReadAllBytes(StatePath))!["datasets"]?[dataset]?.DeepClone().AsObject();
        entry?.Remove("receivedBytes");
        return entry?.ToJsonString();
    }

    public byte[] State() => File.ReadAllBytes(StatePath);

    /// <summary>What the device holds of <paramref name="datasets"/>: files and state entries, for a byte-for-byte comparison later.</summary>
    public string Holdings(params string[] datasets) =>
        string.Join("\n", datasets.Select(d => $"{d}: {StateOf(d)} {string.Join(",", Files(d).OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}={f.Value}"))}"));

    private static int IndexOf(IReadOnlyList<string> lines, int from, string marker)
    {
        for (var i = from; i < lines.Count; i++)
        {
            if (lines[i].EndsWith(marker, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
