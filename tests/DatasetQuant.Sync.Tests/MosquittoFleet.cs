using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Device;
using DatasetQuant.Testing;

namespace DatasetQuant.Sync.Tests;

/// <summary>A mosquitto on loopback with a <see cref="SyncTestBed"/> whose coordinator and devices connect to it.</summary>
internal sealed class MosquittoFleet : IAsyncDisposable
{
    private readonly MosquittoBroker _broker;
    private readonly MqttConnectionFactory _factory = new();

    private MosquittoFleet(MosquittoBroker broker, SyncTestBed bed) => (_broker, Bed) = (broker, bed);

    public SyncTestBed Bed { get; }

    public static async Task<MosquittoFleet> StartAsync()
    {
        var broker = await MosquittoBroker.StartAsync();
        var coordinator = await new MqttConnectionFactory().ConnectAsync(new MqttConnectionOptions { BrokerUri = broker.Url, ClientId = "dq-lab-coordinator" });
        return new MosquittoFleet(broker, new SyncTestBed(coordinatorConnection: coordinator));
    }

    public async Task<TestDevice> StartDeviceAsync(string id, Action<DeviceSyncOptions>? configure = null)
    {
        var device = Bed.AddDevice(id, configure);
        device.Start(await ConnectAsync(device.Options));
        await Task.Delay(300); // subscribed before the manifest goes out; a late device pulls anyway
        return device;
    }

    public async Task RestartDeviceAsync(TestDevice device)
    {
        await device.StopAsync();
        device.Start(await ConnectAsync(device.Options));
    }

    public async ValueTask DisposeAsync()
    {
        await Bed.DisposeAsync();
        await _broker.DisposeAsync();
    }

    private async Task<IMqttConnection> ConnectAsync(DeviceSyncOptions options)
    {
        options.BrokerUrl = _broker.Url;
        return await _factory.ConnectAsync(options.ToConnectionOptions(DeviceSyncEngine.CreateWill(options)));
    }
}
