using System.Diagnostics;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Sync.Security;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Sync.Coordinator;

/// <summary>
/// Pushes a dataset to the whole fleet at once: builds and signs the manifest from a shard directory, publishes it
/// retained on <c>datasets/{name}/manifest</c>, then broadcasts every chunk of every shard on
/// <c>datasets/{name}/chunks</c>. A directory written with embedded codes is published as layers (protocol versions 2–4)
/// and nothing is broadcast: each device pulls only the layers its budget keeps (docs/protocol.md §8). Stateless: the
/// caller chooses the version (above the last one published) and keeps the result in its catalog so repairs (and
/// layer pulls) can be served.
/// </summary>
public sealed class DatasetPublisher(IMqttConnection connection, SyncTopics topics, ManifestSigner signer, ILogger<DatasetPublisher> logger)
{
    /// <param name="cutAtHeldBytes">For layers: held sizes a layer must end at, the budgets devices will have (<see cref="LayeredManifestBuilder"/>).</param>
    /// <param name="layersFormat">For layers: the protocol version to publish them in; null: the newest the set's codes take (<see cref="LayeredManifestBuilder.FormatFor"/>).</param>
    public async Task<DatasetPublishResult> PublishAsync(
        string dataset, long version, string shardDirectory, IShardDescriber describer, int chunkSize = Chunks.ChunkFrameConstants.MaxPayload,
        CancellationToken cancellationToken = default, IEnumerable<long>? cutAtHeldBytes = null, int? layersFormat = null)
    {
        var layered = LayeredManifestBuilder.HasOrder(shardDirectory);
        var manifest = layered
            ? LayeredManifestBuilder.Build(topics.Fleet, dataset, version, shardDirectory, chunkSize, cancellationToken: cancellationToken, cutAtHeldBytes: cutAtHeldBytes, format: layersFormat)
            : ShardDirectoryManifestBuilder.Build(topics.Fleet, dataset, version, shardDirectory, describer, chunkSize);
        var published = new PublishedDataset(signer.Sign(manifest), layered ? LayeredManifestBuilder.LayerDirectory(shardDirectory, version) : shardDirectory);
        return await PublishAsync(published, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Publishes an already signed dataset (again): manifest retained, then the broadcast.</summary>
    public async Task<DatasetPublishResult> PublishAsync(PublishedDataset dataset, CancellationToken cancellationToken = default)
    {
        var manifest = dataset.Manifest;
        var started = Stopwatch.GetTimestamp();
        await PublishManifestAsync(dataset.Signed, cancellationToken).ConfigureAwait(false);

        await using var sender = new ChunkSender(connection);
        var topic = topics.DatasetChunks(manifest.Dataset);
        // Layers are pulled, never broadcast: a broadcast would send every device the layers beyond its budget.
        foreach (var shard in manifest.IsLayered ? [] : manifest.Shards)
        {
            await sender.SendShardAsync(
                topic, manifest.Dataset, manifest.Version, shard.Id, dataset.ShardPath(shard), shard.Size, manifest.ChunkSize,
                wanted: null, isRepair: false, cancellationToken).ConfigureAwait(false);
        }

        await sender.CompleteAsync().ConfigureAwait(false);

        var elapsed = Stopwatch.GetElapsedTime(started);
        if (manifest.IsLayered)
        {
            logger.LogInformation(
                "Published dataset {Dataset} version {Version} as {Layers} layers and {Prefixes} prefixes, {Bytes} bytes (protocol version {Format}): devices pull what their budgets keep",
                manifest.Dataset, manifest.Version, manifest.LayerCount, ManifestPrefix.List(manifest).Count(), manifest.TotalBytes, manifest.Format);
        }
        else
        {
            logger.LogInformation(
                "Published dataset {Dataset} version {Version}: {Shards} shards, {Frames} chunks, {Bytes} bytes in {Seconds:F2} s",
                manifest.Dataset, manifest.Version, manifest.Shards.Count, sender.FramesSent, sender.PayloadBytesSent, elapsed.TotalSeconds);
        }
        return new DatasetPublishResult(dataset, sender.FramesSent, sender.PayloadBytesSent, elapsed);
    }

    public async Task PublishManifestAsync(SignedManifestMessage signed, CancellationToken cancellationToken = default)
    {
        var message = new MqttMessage(topics.DatasetManifest(signed.Manifest.Dataset), SyncMessageCodec.Serialize(signed), MqttQos.AtLeastOnce, Retain: true)
        {
            ContentType = "application/json",
        };
        await connection.PublishAsync(message, cancellationToken).ConfigureAwait(false);
    }
}

public sealed record DatasetPublishResult(PublishedDataset Dataset, long Frames, long PayloadBytes, TimeSpan Elapsed);
