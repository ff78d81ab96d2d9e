using System.Diagnostics;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Messages;

namespace DatasetQuant.Integration.Tests.Fleet;

/// <summary>The real <c>dq-coordinator serve</c> process against mosquitto: state in, retained budget out, clean stop on SIGTERM.</summary>
[Collection(FleetCollection.Name)]
public sealed class ServeCommandTests
{
    [Fact]
    public async Task Serve_records_a_device_publishes_its_budget_and_stops_cleanly_on_SIGTERM()
    {
        await using var bed = await FleetBed.StartAsync();
        var db = bed.Dir.File("serve.db");
        var startInfo = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "dq-coordinator.dll"), "serve", "--broker", bed.Broker.Url, "--fleet", FleetBed.FleetName, "--db", db, "--key", bed.KeyPath, "--budget-fraction", "0.25" })
        {
            startInfo.ArgumentList.Add(arg);
        }

        using var serve = Process.Start(startInfo)!;
        var stdout = serve.StandardOutput.ReadToEndAsync();
        var stderr = serve.StandardError.ReadToEndAsync();
        try
        {
            await using var client = await MqttConnection.ConnectAsync(new MqttConnectionOptions { BrokerUri = bed.Broker.Url, ClientId = "pi-1-stand-in" });
            await client.SubscribeAsync(bed.Topics.BudgetDesired("pi-1"), MqttQos.AtLeastOnce);
            var state = new DeviceStateMessage { Device = "pi-1", FreeFlashBytes = 400L << 20, HeldBytes = 0, UpdatedUtc = DateTimeOffset.UtcNow };
            await client.PublishAsync(new MqttMessage(bed.Topics.DeviceState("pi-1"), SyncMessageCodec.Serialize(state), Retain: true));

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var message = await client.Messages.ReadAsync(timeout.Token);
            Assert.Equal(bed.Topics.BudgetDesired("pi-1"), message.Topic);
            Assert.True(SyncMessageCodec.TryReadBudgetDesired(message.Payload.Span, out var budget, out var error), error);
            Assert.Equal(1, budget.Version);
            Assert.Equal(100L << 20, budget.Bytes);
        }
        finally
        {
            using var term = Process.Start("kill", ["-TERM", serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await term!.WaitForExitAsync();
            using var exitTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await serve.WaitForExitAsync(exitTimeout.Token);
        }

        var log = await stdout + await stderr;
        Assert.True(serve.ExitCode == 0, log);
        Assert.Contains("Budget of pi-1 set to 104857600 bytes (v1, was none)", log);
        await using var store = DatasetQuant.Coordinator.Store.SqliteFleetStore.Open(db, createIfMissing: false);
        Assert.Equal(400L << 20, (await store.GetDeviceAsync(FleetBed.FleetName, "pi-1"))!.FreeFlashBytes);
        Assert.True((await store.GetDesiredBudgetAsync(FleetBed.FleetName, "pi-1"))!.IsPublished);
    }
}
