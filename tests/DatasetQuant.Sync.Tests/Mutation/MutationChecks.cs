using System.Text.Json.Nodes;
using DatasetQuant.Sync.Messages;

namespace DatasetQuant.Sync.Tests.Mutation;

/// <summary>What every device-level mutation test checks once its mutants are through.</summary>
internal static class MutationChecks
{
    /// <summary>
    /// The device still takes a valid dataset published after the mutants, fetches it and holds it byte for byte: its
    /// loop, its pulls and its commits all still work.
    /// </summary>
    public static async Task StillWorksAsync(HeldDatasetsFixture fixture, TestDevice device)
    {
        var name = "after-" + device.Id;
        var source = fixture.Bed.CreateShards(name, 30_000, 500);
        await fixture.Bed.PublishAsync(name, 1, source);
        await SyncTestBed.WaitUntilAsync(() => device.Holds(name, 1), $"{device.Id} to take a valid dataset after the mutants", fixture.Bed.Log);
        device.AssertHoldsExactly(name, source);
        Assert.False(device.Run!.IsCompleted, device.Run.Exception?.ToString());
    }

    /// <summary>
    /// Nothing on flash grows without bound: the data directory holds the state file and one directory per dataset in
    /// it; a dataset's directory holds only its manifest's files, their partial files at the declared size and
    /// journals of the declared chunk count, and for a layered dataset its copy.
    /// </summary>
    public static void OnlyManifestFiles(MutationHarness harness, TestDevice device, DatasetManifest manifest)
    {
        var top = Directory.GetFileSystemEntries(harness.DataDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(["datasets", "sync-state.json"], top);
        var datasets = JsonNode.Parse(harness.State())!["datasets"]!.AsObject().Select(d => d.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var directory in Directory.GetDirectories(Path.Combine(harness.DataDirectory, "datasets")))
        {
            Assert.Contains(Path.GetFileName(directory), datasets);
        }

        var entries = manifest.Shards.ToDictionary(s => s.Name, StringComparer.Ordinal);
        foreach (var file in new DirectoryInfo(device.DatasetDirectory(manifest.Dataset)).EnumerateFiles())
        {
            var name = file.Name;
            if (entries.TryGetValue(name, out var entry))
            {
                Assert.True(file.Length <= entry.Size, $"{name} is {file.Length} bytes, above its {entry.Size}");
            }
            else if (name.EndsWith(".partial", StringComparison.Ordinal) && entries.TryGetValue(name[..^8], out entry))
            {
                Assert.Equal(entry.Size, file.Length);
            }
            else if (name.EndsWith(".chunks", StringComparison.Ordinal) && entries.TryGetValue(name[..^7], out entry))
            {
                Assert.Equal(64 + (8L * entry.ChunkCount(manifest.ChunkSize)), file.Length);
            }
            else
            {
                Assert.True(
                    manifest.IsLayered && (name == manifest.Dataset + ".dqs" || name == manifest.Dataset + ".dqh"),
                    $"{name} in {manifest.Dataset}'s directory is no file of its manifest version {manifest.Version}");
            }
        }
    }
}
