using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Chunks;
using DatasetQuant.Sync.Messages;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Sync.Coordinator;

/// <summary>
/// Answers <c>devices/{id}/pull</c>: sends the chunks a device asked for on <c>devices/{id}/chunks</c>. Stateless
/// beyond the catalog, so any number of coordinators can share pulls (<c>$share/...</c>); a repeated pull is answered
/// again, which the device tolerates. A pull for another version than the catalog's current one is not answered: the
/// device has (or will get) the retained newer manifest.
/// </summary>
public sealed class RepairResponder(IMqttConnection connection, SyncTopics topics, IPublishedDatasetCatalog catalog, ILogger<RepairResponder> logger)
{
    public long FramesSent { get; private set; }

    public long PullsAnswered { get; private set; }

    /// <summary>
    /// Handles one message if it is a pull of this fleet; returns false (doing nothing) for any other topic. Malformed
    /// or unanswerable pulls are logged and dropped.
    /// </summary>
    public async Task<bool> HandleAsync(MqttMessage message, CancellationToken cancellationToken = default)
    {
        var topic = topics.Parse(message.Topic);
        if (topic.Kind != SyncTopicKind.DevicePull)
        {
            return false;
        }

        if (!SyncMessageCodec.TryReadPullRequest(message.Payload.Span, out var pull, out var error))
        {
            logger.LogWarning("Ignored pull on {Topic}: {Error}", message.Topic, error);
            return true;
        }

        if (pull.Device != topic.Name)
        {
            logger.LogWarning("Ignored pull on {Topic}: it names device '{Device}'", message.Topic, pull.Device);
            return true;
        }

        var dataset = catalog.Find(pull.Dataset);
        if (dataset is null)
        {
            logger.LogWarning("Ignored pull from {Device}: dataset '{Dataset}' is not published here", pull.Device, pull.Dataset);
            return true;
        }

        var manifest = dataset.Manifest;
        if (pull.ManifestVersion != manifest.Version)
        {
            logger.LogInformation(
                "Ignored pull from {Device} for {Dataset} version {Asked}: the current version is {Current}",
                pull.Device, pull.Dataset, pull.ManifestVersion, manifest.Version);
            return true;
        }

        await using var sender = new ChunkSender(connection);
        var replyTopic = topics.DeviceChunks(pull.Device);
        foreach (var wanted in pull.Shards)
        {
            var shard = manifest.FindShard(wanted.Id);
            if (shard is null)
            {
                logger.LogWarning("Ignored part of pull from {Device}: {Dataset} has no shard {Shard}", pull.Device, pull.Dataset, wanted.Id);
                continue;
            }

            if (!ChunkBitmap.TryFromWire(wanted.Missing, shard.ChunkCount(manifest.ChunkSize), out var bitmap, out error))
            {
                logger.LogWarning("Ignored part of pull from {Device} for {Dataset} shard {Shard}: {Error}", pull.Device, pull.Dataset, shard.Id, error);
                continue;
            }

            await sender.SendShardAsync(
                replyTopic, manifest.Dataset, manifest.Version, shard.Id, dataset.ShardPath(shard), shard.Size, manifest.ChunkSize,
                bitmap, isRepair: true, cancellationToken).ConfigureAwait(false);
        }

        await sender.CompleteAsync().ConfigureAwait(false);

        FramesSent += sender.FramesSent;
        PullsAnswered++;
        logger.LogInformation(
            "Answered pull from {Device} for {Dataset} version {Version}: {Frames} chunks, {Bytes} bytes",
            pull.Device, pull.Dataset, pull.ManifestVersion, sender.FramesSent, sender.PayloadBytesSent);
        return true;
    }
}
