using System.Diagnostics;
using System.Globalization;
using DatasetQuant.Mqtt;
using DatasetQuant.Testing;

namespace DatasetQuant.Benchmarks.Mqtt;

/// <summary>
/// <c>dotnet run -c Release --project tests/DatasetQuant.Benchmarks -- mqtt-throughput [--rounds N]</c>: QoS 1 through
/// mosquitto on loopback, 64 publishes in flight, raw MQTT 5 framing over sockets against this client at both ends, at
/// the publishing end only and at the subscribing end only. The four run in turn within each round (the order rotates
/// by round), so a machine whose load swings affects all of them alike; medians over rounds, and each variant's ratio
/// to the raw baseline of the same round. <see cref="MqttThroughputBenchmarks"/> measures the same with BenchmarkDotNet
/// when the machine is quiet enough for its in-process runs to finish.
/// </summary>
internal static class ThroughputMeasurement
{
    private const int Window = 64;

    private static readonly (string Name, bool OurPublisher, bool OurSubscriber)[] Variants =
        [("raw sockets", false, false), ("client both ends", true, true), ("client publishes", true, false), ("client subscribes", false, true)];

    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = Option(args, "--rounds", 5);
        await using var broker = await MosquittoBroker.StartAsync();
        Console.WriteLine($"load average at start {LoadAverage()}");
        foreach (var (payloadBytes, messages) in new[] { (256, 20_000), (128 * 1024, 512) })
        {
            var payload = new byte[payloadBytes];
            Random.Shared.NextBytes(payload);
            var seconds = Variants.Select(_ => new List<double>()).ToArray();
            var ratios = Variants.Select(_ => new List<double>()).ToArray();
            for (var round = 0; round < rounds; round++)
            {
                var times = new double[Variants.Length];
                for (var k = 0; k < Variants.Length; k++)
                {
                    var v = (k + round) % Variants.Length;
                    times[v] = await SecondsAsync(broker, payload, messages, Variants[v].OurPublisher, Variants[v].OurSubscriber);
                }

                for (var v = 0; v < Variants.Length; v++)
                {
                    seconds[v].Add(times[v]);
                    ratios[v].Add(times[0] / times[v]);
                }
            }

            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{messages} x {payloadBytes} B, {rounds} rounds, load average now {LoadAverage()}"));
            Console.WriteLine("| variant | median time | median throughput | throughput / raw (median of per-round ratios) |");
            Console.WriteLine("|---|---:|---:|---:|");
            for (var v = 0; v < Variants.Length; v++)
            {
                var median = Median(seconds[v]);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {Variants[v].Name} | {median * 1000:F0} ms | {(double)messages * payloadBytes / median / (1 << 20):F1} MiB/s, {messages / median:F0} msg/s | {Median(ratios[v]):F2} [{string.Join(", ", ratios[v].Select(r => r.ToString("F2", CultureInfo.InvariantCulture)))}] |"));
            }
        }

        return 0;
    }

    private static async Task<double> SecondsAsync(MosquittoBroker broker, byte[] payload, int messages, bool ourPublisher, bool ourSubscriber)
    {
        var topic = $"bench/tput/{Guid.NewGuid():N}";
        var id = topic[^8..];
        await using var rawSubscriber = ourSubscriber ? null : await RawMqttConnection.ConnectAsync(broker.Host, broker.Port, "raw-sub-" + id);
        await using var rawPublisher = ourPublisher ? null : await RawMqttConnection.ConnectAsync(broker.Host, broker.Port, "raw-pub-" + id);
        await using var subscriber = ourSubscriber ? await Connect(new MqttConnectionOptions { BrokerUri = broker.Url, ClientId = "sub-" + id }) : null;
        await using var publisher = ourPublisher ? await Connect(new MqttConnectionOptions { BrokerUri = broker.Url, ClientId = "pub-" + id, MaxInFlight = Window }) : null;
        if (subscriber is not null)
        {
            await subscriber.SubscribeAsync(topic, MqttQos.AtLeastOnce);
        }
        else
        {
            await rawSubscriber!.SubscribeAsync(topic);
        }

        var clock = Stopwatch.StartNew();
        var receiving = subscriber is not null ? DrainAsync(subscriber, messages) : rawSubscriber!.ReceiveAsync(messages, payload.Length + 1024);
        if (publisher is not null)
        {
            var message = new MqttMessage(topic, payload);
            var publishes = new Task[messages];
            for (var i = 0; i < messages; i++)
            {
                publishes[i] = publisher.PublishAsync(message).AsTask();
            }

            await Task.WhenAll(publishes);
        }
        else
        {
            await rawPublisher!.PublishAsync(topic, payload, messages, Window);
        }

        var bytes = await receiving.WaitAsync(TimeSpan.FromMinutes(10));
        var elapsed = clock.Elapsed.TotalSeconds;
        return bytes == (long)messages * payload.Length ? elapsed : throw new InvalidOperationException($"received {bytes} bytes, expected {(long)messages * payload.Length}");
    }

    private static async Task<IMqttConnection> Connect(MqttConnectionOptions options) =>
        await new MqttConnectionFactory().ConnectAsync(options);

    private static async Task<long> DrainAsync(IMqttConnection subscriber, int count)
    {
        long bytes = 0;
        for (var i = 0; i < count; i++)
        {
            using var message = await subscriber.Messages.ReadAsync();
            bytes += message.Payload.Length;
        }

        return bytes;
    }

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], CultureInfo.InvariantCulture, out var value) ? value : fallback;
    }
}
