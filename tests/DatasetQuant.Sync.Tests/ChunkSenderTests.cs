using System.Threading.Channels;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Chunks;
using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Testing;
using DatasetQuant.Testing.InMemoryMqtt;

namespace DatasetQuant.Sync.Tests;

public sealed class ChunkSenderTests
{
    private const int ChunkSize = 4096;

    [Fact]
    public async Task The_in_flight_window_spans_shards_and_only_CompleteAsync_waits_for_the_last_acknowledgements()
    {
        using var dir = new TempDirectory();
        var small = WriteShard(dir.File("a.dqs"), 3 * ChunkSize);
        var large = WriteShard(dir.File("b.dqs"), (20 * ChunkSize) - 7);
        var broker = new InMemoryMqttBroker();
        await using var receiver = broker.Connect("device");
        await receiver.SubscribeAsync("chunks", MqttQos.AtLeastOnce);
        await using var connection = new HeldAcknowledgements(broker.Connect("coordinator"));
        await using var sender = new ChunkSender(connection, window: 16);

        // No acknowledgement has come back, yet the next shard may start: its chunks fill the same window.
        await sender.SendShardAsync("chunks", "d", 1, 0, small, 3 * ChunkSize, ChunkSize, null, false, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(3, connection.Outstanding);

        var second = sender.SendShardAsync("chunks", "d", 1, 1, large, (20 * ChunkSize) - 7, ChunkSize, null, false, CancellationToken.None);
        await SyncTestBed.WaitUntilAsync(() => connection.Outstanding == 16, "a full window", new TestLog());
        await Task.Delay(100);
        Assert.False(second.IsCompleted);
        Assert.Equal(16, connection.Outstanding);

        connection.Release();
        await second.WaitAsync(TimeSpan.FromSeconds(10));
        await sender.CompleteAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, connection.Outstanding);
        Assert.Equal(16, connection.MaxOutstanding);
        Assert.Equal(23, sender.FramesSent);

        var offsets = new List<(int Shard, long Offset)>();
        while (receiver.Messages.TryRead(out var message))
        {
            Assert.True(ChunkFrameReader.TryRead(message.Payload, out var header, out _, out var error), error);
            offsets.Add((header.ShardId, header.Offset));
        }

        Assert.Equal(
            Enumerable.Range(0, 3).Select(i => (0, (long)i * ChunkSize)).Concat(Enumerable.Range(0, 20).Select(i => (1, (long)i * ChunkSize))),
            offsets);
    }

    private static string WriteShard(string path, int size)
    {
        var bytes = new byte[size];
        new Random(size).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Passes publishes on, but completes none of them until <see cref="Release"/>, as a broker slow to PUBACK.</summary>
    private sealed class HeldAcknowledgements(IMqttConnection inner) : IMqttConnection
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _outstanding;
        private int _maxOutstanding;

        public int Outstanding => Volatile.Read(ref _outstanding);

        public int MaxOutstanding => Volatile.Read(ref _maxOutstanding);

        public string ClientId => inner.ClientId;

        public bool IsConnected => inner.IsConnected;

        public ChannelReader<MqttMessage> Messages => inner.Messages;

        public event EventHandler<MqttConnectionStateChangedEventArgs>? StateChanged
        {
            add => inner.StateChanged += value;
            remove => inner.StateChanged -= value;
        }

        public void Release() => _released.TrySetResult();

        public async ValueTask PublishAsync(MqttMessage message, CancellationToken cancellationToken = default)
        {
            // The frame buffer is reused once this completes, so the copy the broker keeps is taken now.
            await inner.PublishAsync(message with { Payload = message.Payload.ToArray() }, cancellationToken);
            var now = Interlocked.Increment(ref _outstanding);
            InterlockedMax(ref _maxOutstanding, now);
            await _released.Task.WaitAsync(cancellationToken);
            Interlocked.Decrement(ref _outstanding);
        }

        public ValueTask SubscribeAsync(string topicFilter, MqttQos qos, CancellationToken cancellationToken = default) =>
            inner.SubscribeAsync(topicFilter, qos, cancellationToken);

        public ValueTask UnsubscribeAsync(string topicFilter, CancellationToken cancellationToken = default) =>
            inner.UnsubscribeAsync(topicFilter, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();

        private static void InterlockedMax(ref int target, int value)
        {
            var current = Volatile.Read(ref target);
            while (value > current && Interlocked.CompareExchange(ref target, value, current) != current)
            {
                current = Volatile.Read(ref target);
            }
        }
    }
}
