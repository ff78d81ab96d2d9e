using DatasetQuant.Agent.Systemd;
using DatasetQuant.Gpio;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DatasetQuant.Agent.Tests;

public sealed class SystemdNotifierTests
{
    [Fact]
    public async Task Sends_a_datagram_to_a_socket_on_a_path()
    {
        using var socket = NotifySocket.OnPath();
        using var notifier = new SystemdNotifier(socket.Address);

        Assert.True(notifier.Notify("READY=1\nSTATUS=up"));

        Assert.Equal("READY=1\nSTATUS=up", await socket.ReceiveAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Sends_to_a_socket_in_the_abstract_namespace()
    {
        using var socket = NotifySocket.Abstract();
        using var notifier = new SystemdNotifier(socket.Address);

        Assert.StartsWith("@", socket.Address, StringComparison.Ordinal);
        Assert.True(notifier.Notify("WATCHDOG=1"));

        Assert.Equal("WATCHDOG=1", await socket.ReceiveAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void A_missing_socket_is_reported_not_thrown()
    {
        using var notifier = new SystemdNotifier(Path.Combine(Path.GetTempPath(), $"dq-absent-{Guid.NewGuid():N}.sock"));

        Assert.False(notifier.Notify("READY=1"));
        Assert.NotNull(notifier.LastError);
    }

    [Theory]
    [InlineData("30000000", null, 30.0)]
    [InlineData("30000000", "4242", 30.0)]
    [InlineData("30000000", "999", null)]
    [InlineData("0", null, null)]
    [InlineData("garbage", null, null)]
    [InlineData(null, null, null)]
    public void The_watchdog_interval_is_ours_only_when_WATCHDOG_PID_names_this_process(string? usec, string? pid, double? seconds)
    {
        var environment = SystemdEnvironment.Parse("/run/systemd/notify", usec, pid, processId: 4242);

        Assert.Equal(seconds, environment.WatchdogInterval?.TotalSeconds);
    }

    [Fact]
    public async Task The_service_sends_ready_after_start_pets_the_watchdog_at_half_the_interval_and_says_stopping()
    {
        using var socket = NotifySocket.OnPath();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton(new SystemdEnvironment(socket.Address, TimeSpan.FromSeconds(2)));
        builder.Services.AddSingleton<DeviceStatusBoard>();
        builder.Services.AddHostedService<SystemdNotifyService>();
        using var host = builder.Build();

        await host.StartAsync();
        var startup = await socket.ReceiveUntilAsync("READY=1", TimeSpan.FromSeconds(5));
        Assert.Contains(startup, m => m.Message.Contains("MAINPID=" + Environment.ProcessId, StringComparison.Ordinal));

        var pets = new List<TimeSpan>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (pets.Count < 4)
        {
            var message = await socket.ReceiveAsync(TimeSpan.FromSeconds(5));
            if (message == "WATCHDOG=1")
            {
                pets.Add(clock.Elapsed);
            }
        }

        host.Services.GetRequiredService<DeviceStatusBoard>().Set(DeviceStatus.Syncing, "dataset fmnist 3/8 shards");
        await socket.ReceiveUntilAsync("STATUS=syncing: dataset fmnist 3/8 shards", TimeSpan.FromSeconds(5));
        await host.StopAsync();
        await socket.ReceiveUntilAsync("STOPPING=1", TimeSpan.FromSeconds(5));

        // WatchdogSec=2s: a pet every second on average, and never a gap long enough for systemd to kill the unit.
        // (The bounds leave room for a loaded machine; what must hold is the average and "none missed".)
        var mean = (pets[^1] - pets[0]).TotalMilliseconds / (pets.Count - 1);
        Assert.InRange(mean, 700, 1400);
        for (var i = 1; i < pets.Count; i++)
        {
            Assert.True((pets[i] - pets[i - 1]).TotalMilliseconds < 2000, $"gap {i} was {(pets[i] - pets[i - 1]).TotalMilliseconds} ms");
        }
    }
}
