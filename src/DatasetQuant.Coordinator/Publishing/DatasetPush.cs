using System.Diagnostics;
using DatasetQuant.Coordinator.Hosting;
using DatasetQuant.Coordinator.Store;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync;
using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Sync.Security;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Coordinator.Publishing;

/// <summary>What one push cost and how long it took.</summary>
/// <param name="BroadcastStarted">Stopwatch timestamp taken just before the manifest went out.</param>
/// <param name="Elapsed">From the manifest's publish to the broker's acknowledgement of the last chunk.</param>
/// <param name="Shards">Shards, or for layers the layers alone.</param>
/// <param name="ShardBytes">The files' bytes: shards, or layers and prefixes.</param>
/// <param name="Format">The manifest's protocol version.</param>
/// <param name="BudgetCuts">For layers: the device budgets, below the whole dataset, that a layer ends at (<see cref="LayerCutPoints"/>).</param>
/// <param name="Prefixes">For layers: the prefixes served whole (protocol versions 3 and 4).</param>
/// <param name="PrefixBytes">Their files' bytes, part of <paramref name="ShardBytes"/>.</param>
public sealed record DatasetPushResult(
    string Dataset, long Version, int Shards, long ShardBytes, long Chunks, long BytesPublished, long BroadcastStarted, TimeSpan Elapsed, bool Recorded, bool Layered = false,
    int Format = DatasetManifest.ShardsFormat, int BudgetCuts = 0, int Prefixes = 0, long PrefixBytes = 0);

/// <summary>
/// One dataset push: picks the next manifest version (above what the store and the broker's retained manifest hold),
/// builds and signs the manifest, records it in the store (so a serving coordinator can repair from it before the
/// first device asks), publishes it retained and broadcasts every chunk, then records the broadcast.
/// </summary>
public sealed class DatasetPush(
    IMqttConnection connection, SyncTopics topics, ManifestSigner signer, IFleetStore? store, IShardDescriber describer, TimeProvider time, ILoggerFactory loggerFactory)
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<DatasetPush>();

    /// <summary>How long to wait for the broker's retained manifest after subscribing; none by then means none.</summary>
    public TimeSpan RetainedManifestWait { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The protocol version layers are published in; by default the newest the set's codes take (4 for embedded codes,
    /// 5 for planes): from 3 on, the copy at each of the fleet's budgets is also served whole; 2 and 3 count version 2
    /// held increments, for fleets whose devices do not read version 4.
    /// </summary>
    public int? LayersFormat { get; init; }

    public async Task<DatasetPushResult> RunAsync(string dataset, string shardDirectory, long? requestedVersion, CancellationToken cancellationToken)
    {
        var directory = Path.GetFullPath(shardDirectory);
        if (!LayeredManifestBuilder.HasOrder(directory))
        {
            return await PushAsync(dataset, _ => directory, v => ShardDirectoryManifestBuilder.Build(topics.Fleet, dataset, v, directory, describer), requestedVersion, cancellationToken);
        }

        // Embedded codes (an increment order beside the shards) are published as layers, ending where the fleet's
        // budgets fall; repairs are served from them.
        var cuts = store is null ? [] : await LayerCutPoints.ForFleetAsync(store, topics.Fleet, dataset, cancellationToken);
        if (cuts.Count > 0)
        {
            _logger.LogInformation("Layers of {Dataset} also end at the held sizes of {Count} device budgets ({Smallest}..{Largest} bytes)", dataset, cuts.Count, cuts[0], cuts[^1]);
        }

        DatasetManifest? built = null;
        string? staging = null;
        DatasetPushResult result;
        try
        {
            // Built aside and moved into the version's folder only once the version is this publisher's.
            result = await PushAsync(
                dataset,
                v => LayeredManifestBuilder.LayerDirectory(directory, v),
                v => built = LayeredManifestBuilder.Build(
                    topics.Fleet, dataset, v, directory, cancellationToken: cancellationToken, cutAtHeldBytes: cuts, format: LayersFormat,
                    layerDirectory: staging = LayeredManifestBuilder.StagingDirectory(directory, v)),
                requestedVersion,
                cancellationToken,
                claimed: v => LayeredManifestBuilder.PlaceLayers(staging!, directory, v));
        }
        finally
        {
            if (staging is not null && Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }

        LayeredManifestBuilder.RemoveOlderLayers(directory, result.Version);
        // A budget at or above the whole dataset's held size needs no cut.
        var prefixes = ManifestPrefix.List(built!).ToList();
        return result with
        {
            BudgetCuts = cuts.Count(cut => cut < built!.FullHeldBytes),
            Prefixes = prefixes.Count,
            PrefixBytes = prefixes.Sum(p => p.Shard.Size + p.Held.Size),
        };
    }

    /// <summary>Publishes a generator (G.onnx and G.json, checked by the caller) as the next version of <paramref name="dataset"/>.</summary>
    public Task<DatasetPushResult> RunGeneratorAsync(string dataset, string generatorPath, long? requestedVersion, CancellationToken cancellationToken)
    {
        var model = Path.GetFullPath(generatorPath);
        return PushAsync(dataset, _ => Path.GetDirectoryName(model)!, v => GeneratorManifestBuilder.Build(topics.Fleet, dataset, v, model), requestedVersion, cancellationToken);
    }

    /// <param name="claimed">Called once the version is this publisher's (recorded in the store, or at once without one), before anything is published.</param>
    private async Task<DatasetPushResult> PushAsync(
        string dataset, Func<long, string> directoryOf, Func<long, DatasetManifest> build, long? requestedVersion, CancellationToken cancellationToken,
        Action<long>? claimed = null)
    {
        var stored = store is null ? null : await store.GetDatasetAsync(topics.Fleet, dataset, cancellationToken);
        var retained = await ReadRetainedVersionAsync(dataset, cancellationToken);
        var highest = Math.Max(stored?.ManifestVersion ?? 0, retained);
        var version = requestedVersion ?? highest + 1;
        if (version <= highest)
        {
            throw new DatasetPushException(
                $"version {version} of dataset '{dataset}' is not above version {highest} already published " +
                $"({(retained >= (stored?.ManifestVersion ?? 0) ? "retained on the broker" : "recorded in the store")}); devices would ignore it.");
        }

        var manifest = build(version);
        var directory = directoryOf(version);
        var signed = signer.Sign(manifest);
        var published = new PublishedDataset(signed, directory);
        var startedAt = time.GetUtcNow();
        var recorded = false;
        if (store is not null)
        {
            var record = new DatasetRecord(topics.Fleet, dataset, version, startedAt, directory,
                // A layered dataset's progress counts layers (a device reports one entry per layer applied), not the
                // prefixes served in their place; repairs are served from the signed manifest, which lists both.
                manifest.Shards.Take(manifest.IsLayered ? manifest.LayerCount : manifest.Shards.Count)
                    .Select(s => new DatasetShard(s.Id, s.Name, s.Size, s.Sha256, s.SampleCount)).ToList())
            {
                SignedManifest = SyncMessageCodec.Serialize(signed),
                Kind = manifest.IsGenerator ? DatasetKinds.Generator : DatasetKinds.Dataset,
            };
            if (!await store.RecordDatasetAsync(record, cancellationToken))
            {
                throw new DatasetPushException($"dataset '{dataset}' got a version above {version} in the store meanwhile; publish again.");
            }

            recorded = true;
        }

        claimed?.Invoke(version);
        var meter = new PublishMeter(connection);
        var publisher = new DatasetPublisher(meter, topics, signer, loggerFactory.CreateLogger<DatasetPublisher>());
        var started = Stopwatch.GetTimestamp();
        var result = await publisher.PublishAsync(published, cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (store is not null)
        {
            await store.RecordBroadcastAsync(
                new BroadcastRecord(topics.Fleet, dataset, version, startedAt, time.GetUtcNow(), result.Frames, meter.PayloadBytes), cancellationToken);
        }

        return new DatasetPushResult(
            dataset, version, manifest.IsLayered ? manifest.LayerCount : manifest.Shards.Count, manifest.TotalBytes, result.Frames, meter.PayloadBytes, started, elapsed, recorded,
            manifest.IsLayered, manifest.Format);
    }

    private async Task<long> ReadRetainedVersionAsync(string dataset, CancellationToken cancellationToken)
    {
        var topic = topics.DatasetManifest(dataset);
        await connection.SubscribeAsync(topic, MqttQos.AtLeastOnce, cancellationToken);
        try
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(RetainedManifestWait);
            while (await connection.Messages.WaitToReadAsync(wait.Token))
            {
                while (connection.Messages.TryRead(out var message))
                {
                    using var owned = message;
                    if (message.Topic != topic)
                    {
                        continue;
                    }

                    if (SyncMessageCodec.TryReadManifest(message.Payload.Span, out var signed, out var error))
                    {
                        return signed.Manifest.Version;
                    }

                    _logger.LogWarning("The retained manifest on {Topic} does not parse ({Error}); taking version 0", topic, error);
                    return 0;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            await connection.UnsubscribeAsync(topic, cancellationToken);
        }

        return 0;
    }
}

/// <summary>A push could not go ahead; the message says why.</summary>
public sealed class DatasetPushException(string message) : Exception(message);
