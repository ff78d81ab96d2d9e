using System.Buffers;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Chunks;

namespace DatasetQuant.Sync.Coordinator;

/// <summary>
/// Reads shard files chunk by chunk and publishes chunk frames, keeping up to <see cref="Window"/> QoS 1 publishes in
/// flight so that throughput is not one round trip per chunk. The window spans shards: only <see cref="CompleteAsync"/>
/// waits for the last acknowledgements, because an emptied window leaves the connection idle while the last PUBACKs
/// come back, and on a broker without TCP_NODELAY those wait for a delayed ACK (40 ms on Linux) each time. Frame
/// buffers are rented and reused once their publish has completed.
/// </summary>
internal sealed class ChunkSender(IMqttConnection connection, int window = ChunkSender.DefaultWindow) : IAsyncDisposable
{
    public const int DefaultWindow = 16;

    private readonly Queue<(Task Publish, byte[] Frame)> _pending = new(window);
    private byte[]? _payload;

    public int Window { get; } = window;

    public long FramesSent { get; private set; }

    public long PayloadBytesSent { get; private set; }

    /// <summary>
    /// Sends the chunks of one shard selected by <paramref name="wanted"/> (null: all) on <paramref name="topic"/>.
    /// Returns once the last of them is handed over; the broker may not have acknowledged them yet.
    /// </summary>
    public async Task SendShardAsync(
        string topic, string dataset, long manifestVersion, int shardId, string path, long size, int chunkSize,
        ChunkBitmap? wanted, bool isRepair, CancellationToken cancellationToken)
    {
        var chunkCount = (int)((size + chunkSize - 1) / chunkSize);
        var frameCapacity = ChunkFrameWriter.GetFrameSize(dataset, chunkSize);
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (RandomAccess.GetLength(file) != size)
        {
            throw new InvalidDataException($"shard file '{path}' is {RandomAccess.GetLength(file)} bytes but the manifest says {size}: it changed after publishing");
        }

        if (_payload is null || _payload.Length < chunkSize)
        {
            ReturnPayload();
            _payload = ArrayPool<byte>.Shared.Rent(chunkSize);
        }

        for (var chunk = 0; chunk < chunkCount; chunk++)
        {
            if (wanted is not null && !wanted[chunk])
            {
                continue;
            }

            var offset = (long)chunk * chunkSize;
            var length = (int)Math.Min(chunkSize, size - offset);
            var read = RandomAccess.Read(file, _payload.AsSpan(0, length), offset);
            if (read != length)
            {
                throw new InvalidDataException($"shard file '{path}' ended at {offset + read} while reading chunk {chunk}");
            }

            var frame = await TakeFrameAsync(frameCapacity).ConfigureAwait(false);
            var frameLength = ChunkFrameWriter.Write(frame, dataset, manifestVersion, shardId, offset, _payload.AsSpan(0, length), isRepair);
            var message = new MqttMessage(topic, frame.AsMemory(0, frameLength), MqttQos.AtLeastOnce) { ContentType = "application/vnd.dq.chunk" };
            _pending.Enqueue((connection.PublishAsync(message, cancellationToken).AsTask(), frame));
            FramesSent++;
            PayloadBytesSent += length;
        }
    }

    /// <summary>Waits until the broker has acknowledged every chunk sent; throws the first publish failure.</summary>
    public async Task CompleteAsync()
    {
        while (_pending.Count > 0)
        {
            var (publish, frame) = _pending.Dequeue();
            try
            {
                await publish.ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(frame);
            }
        }
    }

    /// <summary>Returns the buffers; publishes still in flight are awaited (their failures are not rethrown here).</summary>
    public async ValueTask DisposeAsync()
    {
        while (_pending.Count > 0)
        {
            var (publish, frame) = _pending.Dequeue();
            try
            {
                await publish.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The failure already reached the caller through SendShardAsync or CompleteAsync, or the caller gave up.
            }

            ArrayPool<byte>.Shared.Return(frame);
        }

        ReturnPayload();
    }

    /// <summary>A frame buffer: a fresh one while the window has room, else the oldest one once its publish completed.</summary>
    private async ValueTask<byte[]> TakeFrameAsync(int capacity)
    {
        if (_pending.Count < Window)
        {
            return ArrayPool<byte>.Shared.Rent(capacity);
        }

        var (publish, frame) = _pending.Dequeue();
        try
        {
            await publish.ConfigureAwait(false);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(frame);
            throw;
        }

        if (frame.Length >= capacity)
        {
            return frame;
        }

        ArrayPool<byte>.Shared.Return(frame);
        return ArrayPool<byte>.Shared.Rent(capacity);
    }

    private void ReturnPayload()
    {
        if (_payload is not null)
        {
            ArrayPool<byte>.Shared.Return(_payload);
            _payload = null;
        }
    }
}
