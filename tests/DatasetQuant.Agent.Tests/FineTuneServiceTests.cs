using System.Device.Gpio;
using DatasetQuant.Agent.FineTuning;
using DatasetQuant.Gpio;
using DatasetQuant.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DatasetQuant.Agent.Tests;

/// <summary>The agent host as composed for dev-x64, with a simulated button and, where a test needs it, a scripted trainer.</summary>
public sealed class FineTuneServiceTests : IDisposable
{
    private const int ButtonLine = 27;
    private readonly TempDirectory _data = new("agent");
    private readonly SimulatedGpioChip _gpio = new();

    public void Dispose()
    {
        _gpio.Dispose();
        _data.Dispose();
    }

    private IHost BuildHost(IDeviceTrainer? trainer = null)
    {
        var key = TestKeys.WriteCoordinatorKey(_data.Path);
        var builder = AgentHost.CreateBuilder(
        [
            "--device-config", Path.Combine(AppContext.BaseDirectory, "device-configs", "dev-x64.json"),
            "--data-dir", _data.Path, "--coordinator-key", key, "--device-id", "dev-test",
        ]);
        builder.Services.AddSingleton<GpioDriver>(_gpio);
        if (trainer is not null)
        {
            builder.Services.AddSingleton(trainer);
        }

        return builder.Build();
    }

    private async Task PressButtonAsync()
    {
        await WaitUntil(() => _gpio.ReadsOf(ButtonLine) >= 2);
        _gpio.Drive(ButtonLine, PinEventTypes.Falling);

        // Held until the sampler has read the line low for many of its periods (10 ms at the 30 ms debounce), not for a
        // fixed time: on a loaded machine its timer can be late by more than a short press lasts.
        var readsWhenPressed = _gpio.ReadsOf(ButtonLine);
        await Task.Delay(80);
        await WaitUntil(() => _gpio.ReadsOf(ButtonLine) >= readsWhenPressed + 8);
        _gpio.Drive(ButtonLine, PinEventTypes.Rising);
    }

    [Fact]
    public async Task A_button_press_runs_a_request_and_without_shards_reports_that_nothing_was_trained()
    {
        using var host = BuildHost();
        await host.StartAsync();

        await PressButtonAsync();
        await WaitUntil(() => File.Exists(FineTuneReport.PathIn(_data.Path)));
        await host.StopAsync();

        var report = FineTuneReport.ReadFrom(_data.Path)!;
        Assert.False(report.Completed);
        Assert.Equal("Button", report.Trigger);
        Assert.Equal($"no shards under {Path.Combine(_data.Path, "datasets")} yet", report.Message);
        Assert.Null(report.HeldOutAccuracy);
        var status = host.Services.GetRequiredService<DeviceStatusBoard>();
        Assert.Equal(DeviceStatus.Idle, status.Status);
        Assert.StartsWith("fine-tune not run", status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_during_a_run_merge_into_one_more_run_and_the_result_is_recorded()
    {
        var trainer = new GatedTrainer();
        using var host = BuildHost(trainer);
        var requests = host.Services.GetRequiredService<FineTuneRequests>();
        await host.StartAsync();

        Assert.True(requests.Request(FineTuneTrigger.NewData));
        await trainer.Started.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(DeviceStatus.Training, host.Services.GetRequiredService<DeviceStatusBoard>().Status);
        Assert.True(requests.Request(FineTuneTrigger.Command));
        Assert.False(requests.Request(FineTuneTrigger.Button));
        Assert.False(requests.Request(FineTuneTrigger.NewData));
        trainer.Release();
        await trainer.Started.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        trainer.Release();
        await WaitUntil(() => FineTuneReport.ReadFrom(_data.Path)?.Trigger == "Command");
        await host.StopAsync();

        Assert.Equal(2, trainer.Runs);
        Assert.Equal(2, requests.Merged);
        var report = FineTuneReport.ReadFrom(_data.Path)!;
        Assert.True(report.Completed);
        Assert.Equal(0.875, report.HeldOutAccuracy);
        Assert.Equal("cpu", report.ExecutionProvider);
        Assert.Equal(_data.Path, trainer.LastRequest!.DataDirectory);
        Assert.Equal(1L << 30, trainer.LastRequest.MemoryLimitBytes);
    }

    [Fact]
    public async Task Shutdown_in_the_middle_of_a_run_keeps_the_previous_report_whole()
    {
        var trainer = new GatedTrainer();
        using var host = BuildHost(trainer);
        var requests = host.Services.GetRequiredService<FineTuneRequests>();
        await host.StartAsync();
        requests.Request(FineTuneTrigger.Command);
        await trainer.Started.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        trainer.Release();
        await WaitUntil(() => File.Exists(FineTuneReport.PathIn(_data.Path)));
        var before = File.ReadAllBytes(FineTuneReport.PathIn(_data.Path));

        requests.Request(FineTuneTrigger.NewData);
        await trainer.Started.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        await host.StopAsync();

        Assert.Equal(before, File.ReadAllBytes(FineTuneReport.PathIn(_data.Path)));
        Assert.Equal(["last-run.json"], Directory.GetFiles(Path.GetDirectoryName(FineTuneReport.PathIn(_data.Path))!).Select(Path.GetFileName));
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(20);
        }
    }

    /// <summary>A trainer the test steps through: each run waits for <see cref="Release"/> or cancellation.</summary>
    private sealed class GatedTrainer : IDeviceTrainer
    {
        private readonly SemaphoreSlim _gate = new(0);
        private int _runs;

        public System.Threading.Channels.Channel<FineTuneRequest> Started { get; } = System.Threading.Channels.Channel.CreateUnbounded<FineTuneRequest>();

        public int Runs => _runs;

        public FineTuneRequest? LastRequest { get; private set; }

        public void Release() => _gate.Release();

        public async Task<FineTuneResult> FineTuneAsync(FineTuneRequest request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _runs);
            LastRequest = request;
            Started.Writer.TryWrite(request);
            await _gate.WaitAsync(cancellationToken);
            return new FineTuneResult(true, "ok", HeldOutAccuracy: 0.875, TrainSamples: 900, GeneratorSamples: 1000, HeldOutSamples: 100);
        }
    }
}
