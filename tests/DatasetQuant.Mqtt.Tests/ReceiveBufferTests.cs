using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using DatasetQuant.Testing;

namespace DatasetQuant.Mqtt.Tests;

/// <summary>Received payloads live in pooled buffers that go back exactly once, when their message is disposed.</summary>
public sealed class ReceiveBufferTests
{
    [Fact]
    public async Task A_received_payload_is_pooled_and_returned_exactly_once_however_often_it_is_disposed()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        var pool = new CountingPool();
        await using var subscriber = await MqttTestClients.ConnectAsync(broker, o => o.ReceiveBufferPool = pool);
        await using var publisher = await MqttTestClients.ConnectAsync(broker);
        await subscriber.SubscribeAsync("dq/v1/test/datasets/d/chunks", MqttQos.AtLeastOnce);

        var sent = MqttTestClients.RandomPayload(128 * 1024 + 46, seed: 1);
        await publisher.PublishAsync(new MqttMessage("dq/v1/test/datasets/d/chunks", sent) { ContentType = "application/vnd.dq.chunk" });
        var received = await subscriber.ReceiveAsync();
        var copy = received with { Retain = true };

        Assert.True(received.IsPooled);
        Assert.Equal(1, pool.Rented);
        Assert.Equal(0, pool.Returned);
        Assert.Equal(sent, received.Payload.ToArray());
        Assert.Equal("application/vnd.dq.chunk", received.ContentType);

        received.Dispose();
        received.Dispose();
        copy.Dispose();
        Assert.Equal(1, pool.Returned);
        Assert.Throws<ObjectDisposedException>(() => received.Payload);
        Assert.Throws<ObjectDisposedException>(() => copy.Payload);
    }

    [Fact]
    public async Task A_payload_held_by_a_consumer_is_not_reused_while_later_messages_arrive()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        var pool = new CountingPool();
        await using var subscriber = await MqttTestClients.ConnectAsync(broker, o => o.ReceiveBufferPool = pool);
        await using var publisher = await MqttTestClients.ConnectAsync(broker, o => o.MaxInFlight = 16);
        await subscriber.SubscribeAsync("held/+", MqttQos.AtLeastOnce);

        var first = MqttTestClients.RandomPayload(100_000, seed: 2);
        await publisher.PublishAsync(new MqttMessage("held/first", first));
        using var held = await subscriber.ReceiveAsync();

        // Many more messages of the same size pass through, each disposed once read: their buffers are reused among
        // themselves, never the one still held.
        for (var i = 0; i < 64; i++)
        {
            var payload = MqttTestClients.RandomPayload(100_000, seed: 100 + i);
            await publisher.PublishAsync(new MqttMessage("held/next", payload));
            using var next = await subscriber.ReceiveAsync();
            Assert.Equal(payload, next.Payload.ToArray());
        }

        Assert.Equal(first, held.Payload.ToArray());
        Assert.Equal(65, pool.Rented);
        Assert.Equal(64, pool.Returned);
        Assert.True(pool.DistinctArrays < 65, "disposed buffers are rented again");
        Assert.DoesNotContain(pool.ReturnedArrays, a => ReferenceEquals(a, pool.FirstRented));
    }

    [Fact]
    public void A_message_built_to_publish_owns_no_pooled_memory()
    {
        var bytes = new byte[] { 1, 2, 3 };
        var message = new MqttMessage("t", bytes);
        message.Dispose();
        Assert.False(message.IsPooled);
        Assert.Equal(bytes, message.Payload.ToArray());

        // Replacing the payload of a received message detaches the pooled buffer from the copy.
        var pool = new CountingPool();
        var received = MqttMessage.CreateReceived("t", bytes, MqttQos.AtLeastOnce, retain: false, pool);
        var replaced = received with { Payload = new byte[] { 9 } };
        replaced.Dispose();
        Assert.False(replaced.IsPooled);
        Assert.Equal(0, pool.Returned);
        received.Dispose();
        Assert.Equal(1, pool.Returned);
        Assert.Equal(new byte[] { 9 }, replaced.Payload.ToArray());
    }

    /// <summary>An array pool that counts what it hands out and takes back.</summary>
    private sealed class CountingPool : ArrayPool<byte>
    {
        private readonly ConcurrentBag<byte[]> _free = [];
        private readonly ConditionalWeakTable<byte[], object> _seen = [];
        private int _rented;
        private int _returned;
        private int _distinct;

        public int Rented => Volatile.Read(ref _rented);

        public int Returned => Volatile.Read(ref _returned);

        public int DistinctArrays => Volatile.Read(ref _distinct);

        public byte[]? FirstRented { get; private set; }

        public ConcurrentQueue<byte[]> ReturnedArrays { get; } = new();

        public override byte[] Rent(int minimumLength)
        {
            Interlocked.Increment(ref _rented);
            if (!_free.TryTake(out var array) || array.Length < minimumLength)
            {
                array = new byte[minimumLength];
            }

            if (!_seen.TryGetValue(array, out _))
            {
                _seen.Add(array, new object());
                Interlocked.Increment(ref _distinct);
            }

            FirstRented ??= array;
            return array;
        }

        public override void Return(byte[] array, bool clearArray = false)
        {
            Interlocked.Increment(ref _returned);
            ReturnedArrays.Enqueue(array);
            _free.Add(array);
        }
    }
}
