using DatasetQuant.Agent.Systemd;
using DatasetQuant.Gpio;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;

namespace DatasetQuant.Agent.Tests;

/// <summary>
/// The watchdog pings and STATUS= lines, through the library's <see cref="ISystemdNotifier"/> seam. The real notify
/// socket, READY=1 and STOPPING=1 are checked on the built process in <see cref="AgentProcessTests"/>.
/// </summary>
public sealed class SystemdStatusServiceTests
{
    [Theory]
    [InlineData("30000000", null, 30.0)]
    [InlineData("30000000", "4242", 30.0)]
    [InlineData("30000000", "999", null)]
    [InlineData("0", null, null)]
    [InlineData("garbage", null, null)]
    [InlineData(null, null, null)]
    public void The_watchdog_interval_is_ours_only_when_WATCHDOG_PID_names_this_process(string? usec, string? pid, double? seconds)
    {
        var watchdog = SystemdWatchdog.Parse(usec, pid, processId: 4242);

        Assert.Equal(seconds, watchdog.Interval?.TotalSeconds);
        Assert.Equal(seconds / 2, watchdog.PingEvery?.TotalSeconds);
    }

    [Fact]
    public async Task It_pings_the_watchdog_at_half_the_interval_and_reports_the_status_as_it_changes()
    {
        var notifier = new RecordingNotifier(enabled: true);
        using var host = BuildHost(notifier, TimeSpan.FromSeconds(2));

        await host.StartAsync();
        await WaitUntil(() => notifier.Count("WATCHDOG=1") >= 4, TimeSpan.FromSeconds(10));
        host.Services.GetRequiredService<DeviceStatusBoard>().Set(DeviceStatus.Syncing, "dataset fmnist 3/8 shards");
        await host.StopAsync();

        var sent = notifier.Sent;
        Assert.Contains(sent, m => m.State == "STATUS=idle: starting");
        Assert.Contains(sent, m => m.State == "STATUS=syncing: dataset fmnist 3/8 shards");
        Assert.Equal("STATUS=stopping", sent.Last(m => m.State.StartsWith("STATUS=", StringComparison.Ordinal)).State);

        // WatchdogSec=2s: a ping about every second, and never a gap long enough for systemd to kill the unit. A loaded
        // machine only delays pings (a stall of a few hundred ms lifted the mean to 1.44 s once), so the mean's bound
        // is what tells half the interval from the whole one; the gaps below are what systemd needs.
        var pings = sent.Where(m => m.State == "WATCHDOG=1").Select(m => m.At).ToArray();
        var mean = (pings[^1] - pings[0]).TotalMilliseconds / (pings.Length - 1);
        Assert.InRange(mean, 700, 1600);
        for (var i = 1; i < pings.Length; i++)
        {
            Assert.True((pings[i] - pings[i - 1]).TotalMilliseconds < 2000, $"gap {i} was {(pings[i] - pings[i - 1]).TotalMilliseconds} ms");
        }
    }

    [Fact]
    public async Task Without_a_notify_socket_nothing_is_sent()
    {
        var notifier = new RecordingNotifier(enabled: false);
        using var host = BuildHost(notifier, TimeSpan.FromSeconds(1));

        await host.StartAsync();
        host.Services.GetRequiredService<DeviceStatusBoard>().Set(DeviceStatus.Training, "epoch 1/2");
        await Task.Delay(700);
        await host.StopAsync();

        Assert.Empty(notifier.Sent);
    }

    [Fact]
    public async Task A_manager_that_went_away_is_logged_and_the_service_runs_on()
    {
        var notifier = new RecordingNotifier(enabled: true) { Fail = true };
        using var host = BuildHost(notifier, TimeSpan.FromMilliseconds(200));

        await host.StartAsync();
        await WaitUntil(() => notifier.Attempts >= 3, TimeSpan.FromSeconds(10));
        await host.StopAsync();
    }

    private static IHost BuildHost(ISystemdNotifier notifier, TimeSpan watchdog)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton(notifier);
        builder.Services.AddSingleton(new SystemdWatchdog(watchdog));
        builder.Services.AddSingleton<DeviceStatusBoard>();
        builder.Services.AddHostedService<SystemdStatusService>();
        return builder.Build();
    }

    private static async Task WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(20);
        }
    }

    /// <summary>Records what would go to the notify socket, with when.</summary>
    private sealed class RecordingNotifier(bool enabled) : ISystemdNotifier
    {
        private readonly List<(TimeSpan At, string State)> _sent = [];
        private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
        private int _attempts;

        public bool Fail { get; init; }

        public bool IsEnabled => enabled;

        public int Attempts => Volatile.Read(ref _attempts);

        public IReadOnlyList<(TimeSpan At, string State)> Sent
        {
            get
            {
                lock (_sent)
                {
                    return [.. _sent];
                }
            }
        }

        public int Count(string state) => Sent.Count(m => m.State == state);

        public void Notify(ServiceState state)
        {
            Interlocked.Increment(ref _attempts);
            if (Fail)
            {
                throw new System.Net.Sockets.SocketException(111); // ECONNREFUSED, as SystemdNotifier throws it
            }

            lock (_sent)
            {
                _sent.Add((_clock.Elapsed, state.ToString()));
            }
        }
    }
}
