using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using DatasetQuant.Mqtt;
using DatasetQuant.Testing;

namespace DatasetQuant.Benchmarks.Mqtt;

/// <summary>
/// QoS 1 messages through a real mosquitto on loopback to one subscriber: this client (MqttConnection over MQTTnet,
/// both ends) against raw MQTT framing over sockets, with the same in-flight window.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class MqttThroughputBenchmarks
{
    private const int Window = 64;
    private MosquittoBroker? _broker;
    private MqttConnection? _publisher;
    private MqttConnection? _subscriber;
    private RawMqttConnection? _rawPublisher;
    private RawMqttConnection? _rawSubscriber;
    private byte[] _payload = [];

    [Params(256, 64 * 1024, 128 * 1024)]
    public int PayloadBytes { get; set; }

    /// <summary>Messages per operation: 0.5 MiB at 256 B, 128 MiB at 64 KiB, 256 MiB at 128 KiB.</summary>
    [Params(2048)]
    public int Messages { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _payload = new byte[PayloadBytes];
        new Random(7).NextBytes(_payload);
        SetupAsync().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true)]
    public async Task<long> RawSockets()
    {
        var receiving = _rawSubscriber!.ReceiveAsync(Messages, PayloadBytes + 1024);
        await _rawPublisher!.PublishAsync("bench/raw", _payload, Messages, Window);
        return Check(await receiving);
    }

    [Benchmark]
    public async Task<long> ClientBothEnds()
    {
        var receiving = ReceiveAsync(_subscriber!, Messages);
        var message = new MqttMessage("bench/dq", _payload);
        var publishes = new Task[Messages];
        for (var i = 0; i < publishes.Length; i++)
        {
            publishes[i] = _publisher!.PublishAsync(message).AsTask();
        }

        await Task.WhenAll(publishes);
        return Check(await receiving);
    }

    /// <summary>Only the publishing side is this client: separates its cost from the subscriber's.</summary>
    [Benchmark]
    public async Task<long> DqPublisherRawSubscriber()
    {
        var receiving = _rawSubscriber!.ReceiveAsync(Messages, PayloadBytes + 1024);
        var message = new MqttMessage("bench/raw", _payload);
        var publishes = new Task[Messages];
        for (var i = 0; i < publishes.Length; i++)
        {
            publishes[i] = _publisher!.PublishAsync(message).AsTask();
        }

        await Task.WhenAll(publishes);
        return Check(await receiving);
    }

    /// <summary>Only the subscribing side is this client.</summary>
    [Benchmark]
    public async Task<long> RawPublisherDqSubscriber()
    {
        var receiving = ReceiveAsync(_subscriber!, Messages);
        await _rawPublisher!.PublishAsync("bench/dq", _payload, Messages, Window);
        return Check(await receiving);
    }

    [GlobalCleanup]
    public void Cleanup() => CleanupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        _broker = await MosquittoBroker.StartAsync();
        var options = new MqttConnectionOptions { BrokerUri = _broker.Url, MaxInFlight = Window };
        _publisher = await DatasetQuant.Mqtt.MqttConnection.ConnectAsync(options);
        _subscriber = await DatasetQuant.Mqtt.MqttConnection.ConnectAsync(new MqttConnectionOptions { BrokerUri = _broker.Url });
        await _subscriber.SubscribeAsync("bench/dq", MqttQos.AtLeastOnce);
        _rawPublisher = await RawMqttConnection.ConnectAsync(_broker.Host, _broker.Port, "raw-pub");
        _rawSubscriber = await RawMqttConnection.ConnectAsync(_broker.Host, _broker.Port, "raw-sub");
        await _rawSubscriber.SubscribeAsync("bench/raw");
    }

    private async Task CleanupAsync()
    {
        await (_publisher?.DisposeAsync() ?? ValueTask.CompletedTask);
        await (_subscriber?.DisposeAsync() ?? ValueTask.CompletedTask);
        await (_rawPublisher?.DisposeAsync() ?? ValueTask.CompletedTask);
        await (_rawSubscriber?.DisposeAsync() ?? ValueTask.CompletedTask);
        await (_broker?.DisposeAsync() ?? ValueTask.CompletedTask);
    }

    private static async Task<long> ReceiveAsync(MqttConnection subscriber, int count)
    {
        long bytes = 0;
        for (var i = 0; i < count; i++)
        {
            using var message = await subscriber.Messages.ReadAsync();
            bytes += message.Payload.Length;
        }

        return bytes;
    }

    /// <summary>
    /// Each operation moves hundreds of MiB through sockets, so one invocation per iteration (Monitoring) is enough;
    /// in-process because the generated project does not build within BenchmarkDotNet's timeout on a busy machine,
    /// and the cost measured here is I/O, not code generation.
    /// </summary>
    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default
            .WithStrategy(RunStrategy.Monitoring)
            .WithLaunchCount(1)
            .WithWarmupCount(2)
            .WithIterationCount(9)
            .WithToolchain(InProcessEmitToolchain.Instance));
    }

    private long Check(long bytes) =>
        bytes == (long)Messages * PayloadBytes ? bytes : throw new InvalidOperationException($"received {bytes} payload bytes, expected {(long)Messages * PayloadBytes}");
}
