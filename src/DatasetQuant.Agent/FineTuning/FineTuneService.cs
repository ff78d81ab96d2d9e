using System.Diagnostics;
using DatasetQuant.Agent.Configuration;
using DatasetQuant.Agent.Memory;
using DatasetQuant.Agent.Onnx;
using DatasetQuant.Core.IO;
using DatasetQuant.Gpio;
using DatasetQuant.Sync.Device;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Agent.FineTuning;

/// <summary>
/// Runs one fine-tune at a time as requests arrive (new data, a command, the button), no closer together than
/// <see cref="FineTuneOptions.MinimumIntervalSeconds"/>, and records each outcome. New data (a verified dataset on
/// flash) and the button are wired here; <see cref="FineTuneCommandHandler"/> calls <see cref="FineTuneRequests.Request"/>.
/// </summary>
public sealed partial class FineTuneService(
    FineTuneRequests requests,
    IDeviceTrainer trainer,
    GpioButton button,
    DeviceStatusBoard status,
    EffectiveOnnxRuntimeSettings onnxRuntime,
    IOptions<FineTuneOptions> fineTuneOptions,
    IOptions<DeviceSyncOptions> syncOptions,
    IOptions<DeviceOptions> deviceOptions,
    DeviceSyncEvents syncEvents,
    IdleMemoryTrimmer memoryTrimmer,
    TimeProvider time,
    ILogger<FineTuneService> logger) : BackgroundService
{
    private IReadOnlyList<string>? _latestShards;

    /// <summary>The last outcome (null before the first run), for the state report.</summary>
    public FineTuneReport? LastReport { get; private set; }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (fineTuneOptions.Value.OnButton)
        {
            button.Pressed += OnButtonPressed;
        }

        if (fineTuneOptions.Value.OnNewData)
        {
            syncEvents.DatasetStored += OnDatasetStored;
        }

        return base.StartAsync(cancellationToken);
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        button.Pressed -= OnButtonPressed;
        syncEvents.DatasetStored -= OnDatasetStored;
        return base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = fineTuneOptions.Value;
        var dataDirectory = syncOptions.Value.DataDirectory;
        var leftovers = AtomicFile.DeleteLeftovers(Path.GetDirectoryName(FineTuneReport.PathIn(dataDirectory))!);
        if (leftovers > 0)
        {
            LogLeftovers(logger, leftovers);
        }

        long? lastRunEnded = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var trigger = await requests.TakeAsync(stoppingToken);
                if (lastRunEnded is { } ended)
                {
                    var wait = TimeSpan.FromSeconds(settings.MinimumIntervalSeconds) - time.GetElapsedTime(ended);
                    if (wait > TimeSpan.Zero)
                    {
                        LogWaiting(logger, trigger, wait.TotalSeconds);
                        await Task.Delay(wait, time, stoppingToken);
                    }
                }

                await RunOnceAsync(trigger, dataDirectory, stoppingToken);
                lastRunEnded = time.GetTimestamp();

                // The run's batches, model and shard views are garbage now; the agent idles until the next request.
                memoryTrimmer.Trim("fine-tune");
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunOnceAsync(FineTuneTrigger trigger, string dataDirectory, CancellationToken stoppingToken)
    {
        var request = new FineTuneRequest(
            trigger, dataDirectory, deviceOptions.Value.MemoryLimitBytes, fineTuneOptions.Value.HeldOutFraction, onnxRuntime, Volatile.Read(ref _latestShards));
        var startedAt = time.GetUtcNow();
        var clock = Stopwatch.StartNew();
        LogStarting(logger, trigger);
        status.Set(DeviceStatus.Training, $"fine-tuning ({trigger})");
        FineTuneResult result;
        try
        {
            result = await trainer.FineTuneAsync(request, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            LogCancelled(logger);
            throw;
        }
        catch (Exception ex)
        {
            LogFailed(logger, ex);
            result = new FineTuneResult(Completed: false, $"failed: {ex.Message}");
            status.Set(DeviceStatus.Error, $"fine-tune failed: {ex.Message}");
        }

        var report = new FineTuneReport(
            startedAt, clock.Elapsed.TotalSeconds, trigger.ToString(), result.Completed, result.Message, result.HeldOutAccuracy,
            result.TrainSamples, result.GeneratorSamples, result.HeldOutSamples, result.ModelPath, onnxRuntime.ExecutionProvider);
        report.WriteTo(dataDirectory);
        LastReport = report;
        syncEvents.RequestStateReport();
        if (result.Completed)
        {
            LogCompleted(logger, report.HeldOutAccuracy ?? double.NaN, report.TrainSamples, report.GeneratorSamples, report.DurationSeconds);
            status.Set(DeviceStatus.Idle, $"fine-tuned: accuracy {report.HeldOutAccuracy:P1}");
        }
        else if (status.Status != DeviceStatus.Error)
        {
            LogNotRun(logger, result.Message);
            status.Set(DeviceStatus.Idle, $"fine-tune not run: {result.Message}");
        }
    }

    private void OnButtonPressed(object? sender, EventArgs e) => requests.Request(FineTuneTrigger.Button);

    private void OnDatasetStored(object? sender, DatasetStoredEventArgs e)
    {
        LogNewData(logger, e.Dataset, e.ManifestVersion, e.ShardPaths.Count, e.Reason);
        Volatile.Write(ref _latestShards, e.ShardPaths);
        requests.Request(FineTuneTrigger.NewData);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Dataset {Dataset} v{Version} stored ({Shards} shards, {Reason}); requesting a fine-tune")]
    private static partial void LogNewData(ILogger logger, string dataset, long version, int shards, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Fine-tune requested by {Trigger}; starting")]
    private static partial void LogStarting(ILogger logger, FineTuneTrigger trigger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Fine-tune requested by {Trigger}; waiting {Seconds:F0} s for the minimum interval")]
    private static partial void LogWaiting(ILogger logger, FineTuneTrigger trigger, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Fine-tune done: held-out accuracy {Accuracy:P2} ({Train} samples + {Generated} generated) in {Seconds:F1} s")]
    private static partial void LogCompleted(ILogger logger, double accuracy, int train, int generated, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fine-tune not run: {Reason}")]
    private static partial void LogNotRun(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Fine-tune failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Fine-tune cancelled by shutdown; the previous model and report stay in place")]
    private static partial void LogCancelled(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Count} temp files left by an interrupted write")]
    private static partial void LogLeftovers(ILogger logger, int count);
}
