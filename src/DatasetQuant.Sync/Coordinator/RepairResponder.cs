using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Chunks;
using DatasetQuant.Sync.Messages;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Sync.Coordinator;

/// <summary>
/// Answers <c>devices/{id}/pull</c>: sends the chunks a device asked for on <c>devices/{id}/chunks</c>. Stateless
/// beyond the catalog, so any number of coordinators can share pulls (<c>$share/...</c>); a repeated pull is answered
/// again, which the device tolerates. A pull for another version than the catalog's current one is not answered: the
/// device has (or will get) the retained newer manifest. <see cref="TryPlan"/> and <see cref="AnswerAsync"/> are the
/// two halves of <see cref="HandleAsync"/>, for a caller that records the repair in between.
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
        if (topics.Parse(message.Topic).Kind != SyncTopicKind.DevicePull)
        {
            return false;
        }

        if (TryPlan(message) is { } plan)
        {
            await AnswerAsync(plan, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>
    /// Reads a pull and decides what answers it: the chunks of each shard asked for, from the catalog's current
    /// version. Null (logged) when the message is not a pull of this fleet, is malformed, or asks for nothing this
    /// coordinator can send.
    /// </summary>
    public RepairPlan? TryPlan(MqttMessage message)
    {
        var topic = topics.Parse(message.Topic);
        if (topic.Kind != SyncTopicKind.DevicePull)
        {
            return null;
        }

        if (!SyncMessageCodec.TryReadPullRequest(message.Payload.Span, out var pull, out var error))
        {
            logger.LogWarning("Ignored pull on {Topic}: {Error}", message.Topic, error);
            return null;
        }

        if (pull.Device != topic.Name)
        {
            logger.LogWarning("Ignored pull on {Topic}: field 'device' is '{Device}', not the topic's", message.Topic, pull.Device);
            return null;
        }

        var dataset = catalog.Find(pull.Dataset);
        if (dataset is null)
        {
            logger.LogWarning("Ignored pull on {Topic}: field 'dataset' is '{Dataset}', which is not published here", message.Topic, pull.Dataset);
            return null;
        }

        var manifest = dataset.Manifest;
        if (pull.ManifestVersion != manifest.Version)
        {
            logger.LogInformation(
                "Ignored pull on {Topic}: field 'manifestVersion' is {Asked}; the current version of {Dataset} is {Current}",
                message.Topic, pull.ManifestVersion, pull.Dataset, manifest.Version);
            return null;
        }

        var parts = new List<RepairPart>(pull.Shards.Count);
        foreach (var wanted in pull.Shards)
        {
            var shard = manifest.FindShard(wanted.Id);
            if (shard is null)
            {
                logger.LogWarning("Ignored part of pull on {Topic}: field 'shards[].id' is {Shard}, which {Dataset} does not list", message.Topic, wanted.Id, pull.Dataset);
                continue;
            }

            if (!ChunkBitmap.TryFromWire(wanted.Missing, shard.ChunkCount(manifest.ChunkSize), out var bitmap, out error))
            {
                logger.LogWarning("Ignored part of pull on {Topic} for {Dataset} shard {Shard}: field 'shards[].missing': {Error}", message.Topic, pull.Dataset, shard.Id, error);
                continue;
            }

            if (bitmap.SetCount > 0)
            {
                parts.Add(new RepairPart(shard, bitmap));
            }
        }

        return parts.Count == 0 ? null : new RepairPlan(pull, dataset, parts);
    }

    /// <summary>Sends the chunks of <paramref name="plan"/> and returns once the broker has acknowledged them all.</summary>
    public async Task AnswerAsync(RepairPlan plan, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var manifest = plan.Dataset.Manifest;
        await using var sender = new ChunkSender(connection);
        var replyTopic = topics.DeviceChunks(plan.Pull.Device);
        foreach (var part in plan.Parts)
        {
            await sender.SendShardAsync(
                replyTopic, manifest.Dataset, manifest.Version, part.Shard.Id, plan.Dataset.ShardPath(part.Shard), part.Shard.Size, manifest.ChunkSize,
                part.Wanted, isRepair: true, cancellationToken).ConfigureAwait(false);
        }

        await sender.CompleteAsync().ConfigureAwait(false);

        FramesSent += sender.FramesSent;
        PullsAnswered++;
        logger.LogInformation(
            "Answered pull from {Device} for {Dataset} version {Version}: {Frames} chunks, {Bytes} bytes",
            plan.Pull.Device, plan.Pull.Dataset, plan.Pull.ManifestVersion, sender.FramesSent, sender.PayloadBytesSent);
    }
}

/// <summary>What answers one pull: the dataset version it asked for and, per shard, the chunks wanted.</summary>
public sealed record RepairPlan(PullRequestMessage Pull, PublishedDataset Dataset, IReadOnlyList<RepairPart> Parts)
{
    public long Chunks => Parts.Sum(p => (long)p.Wanted.SetCount);

    /// <summary>Payload bytes the answer carries: every wanted chunk's length (the last chunk of a shard may be short).</summary>
    public long Bytes
    {
        get
        {
            var chunkSize = Dataset.Manifest.ChunkSize;
            var total = 0L;
            foreach (var part in Parts)
            {
                for (var chunk = 0; chunk < part.Wanted.Count; chunk++)
                {
                    if (part.Wanted[chunk])
                    {
                        total += Math.Min(chunkSize, part.Shard.Size - ((long)chunk * chunkSize));
                    }
                }
            }

            return total;
        }
    }
}

/// <summary>The chunks of one shard a pull asked for.</summary>
public sealed record RepairPart(ManifestShard Shard, ChunkBitmap Wanted);
