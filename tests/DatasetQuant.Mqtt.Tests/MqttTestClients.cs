using DatasetQuant.Testing;

namespace DatasetQuant.Mqtt.Tests;

/// <summary>Connects clients to a test broker and reads what they receive, failing with a clear message on timeout.</summary>
internal static class MqttTestClients
{
    public static readonly TimeSpan ReceiveTimeout = TimeSpan.FromSeconds(10);

    public static Task<MqttConnection> ConnectAsync(MosquittoBroker broker, Action<MqttConnectionOptions>? configure = null)
    {
        var options = new MqttConnectionOptions { BrokerUri = broker.Url, ReconnectDelayMin = TimeSpan.FromSeconds(1), ReconnectDelayMax = TimeSpan.FromSeconds(2) };
        configure?.Invoke(options);
        return MqttConnection.ConnectAsync(options);
    }

    public static async Task<MqttMessage> ReceiveAsync(this IMqttConnection connection, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? ReceiveTimeout);
        try
        {
            return await connection.Messages.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"'{connection.ClientId}' received nothing within {(timeout ?? ReceiveTimeout).TotalSeconds} s.");
        }
    }

    /// <summary>Asserts nothing arrives within <paramref name="quiet"/>.</summary>
    public static async Task AssertNothingReceivedAsync(this IMqttConnection connection, TimeSpan quiet)
    {
        using var cts = new CancellationTokenSource(quiet);
        try
        {
            var message = await connection.Messages.ReadAsync(cts.Token);
            Assert.Fail($"'{connection.ClientId}' received an unexpected message on '{message.Topic}'.");
        }
        catch (OperationCanceledException)
        {
        }
    }

    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds} s waiting for {what}.");
            }

            await Task.Delay(20);
        }
    }

    public static byte[] RandomPayload(int length, int seed)
    {
        var payload = new byte[length];
        new Random(seed).NextBytes(payload);
        return payload;
    }
}
