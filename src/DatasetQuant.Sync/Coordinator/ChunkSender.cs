using System.Buffers;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Chunks;

namespace DatasetQuant.Sync.Coordinator;

/// <summary>
/// Reads shard files chunk by chunk and publishes chunk frames, keeping up to <see cref="Window"/> QoS 1 publishes in
/// flight so that throughput is not one round trip per chunk. Frame buffers are rented and reused once their publish
/// has completed.
/// </summary>
internal sealed class ChunkSender(IMqttConnection connection, int window = ChunkSender.DefaultWindow)
{
    public const int DefaultWindow = 16;

    public int Window { get; } = window;

    public long FramesSent { get; private set; }

    public long PayloadBytesSent { get; private set; }

    /// <summary>Sends the chunks of one shard selected by <paramref name="wanted"/> (null: all) on <paramref name="topic"/>.</summary>
    public async Task SendShardAsync(
        string topic, string dataset, long manifestVersion, int shardId, string path, long size, int chunkSize,
        ChunkBitmap? wanted, bool isRepair, CancellationToken cancellationToken)
    {
        var chunkCount = (int)((size + chunkSize - 1) / chunkSize);
        var pending = new Queue<(Task Publish, byte[] Buffer)>(Window);
        var frameCapacity = ChunkFrameWriter.GetFrameSize(dataset, chunkSize);
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (RandomAccess.GetLength(file) != size)
        {
            throw new InvalidDataException($"shard file '{path}' is {RandomAccess.GetLength(file)} bytes but the manifest says {size}: it changed after publishing");
        }

        var payload = ArrayPool<byte>.Shared.Rent(chunkSize);
        try
        {
            for (var chunk = 0; chunk < chunkCount; chunk++)
            {
                if (wanted is not null && !wanted[chunk])
                {
                    continue;
                }

                var offset = (long)chunk * chunkSize;
                var length = (int)Math.Min(chunkSize, size - offset);
                var read = RandomAccess.Read(file, payload.AsSpan(0, length), offset);
                if (read != length)
                {
                    throw new InvalidDataException($"shard file '{path}' ended at {offset + read} while reading chunk {chunk}");
                }

                byte[] frame;
                if (pending.Count == Window)
                {
                    var (publish, buffer) = pending.Dequeue();
                    await publish.ConfigureAwait(false);
                    frame = buffer;
                }
                else
                {
                    frame = ArrayPool<byte>.Shared.Rent(frameCapacity);
                }

                var frameLength = ChunkFrameWriter.Write(frame, dataset, manifestVersion, shardId, offset, payload.AsSpan(0, length), isRepair);
                var message = new MqttMessage(topic, frame.AsMemory(0, frameLength), MqttQos.AtLeastOnce) { ContentType = "application/vnd.dq.chunk" };
                pending.Enqueue((connection.PublishAsync(message, cancellationToken).AsTask(), frame));
                FramesSent++;
                PayloadBytesSent += length;
            }

            while (pending.Count > 0)
            {
                var (publish, buffer) = pending.Dequeue();
                await publish.ConfigureAwait(false);
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload);
        }
    }
}
