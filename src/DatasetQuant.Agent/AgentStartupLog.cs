using System.Reflection;
using DatasetQuant.Agent.Configuration;
using DatasetQuant.Agent.Onnx;
using DatasetQuant.Sync.Device;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Agent;

/// <summary>One line at start saying who this device is and how it is set up, for whoever reads the journal.</summary>
public sealed partial class AgentStartupLog(
    IOptions<DeviceOptions> device,
    IOptions<DeviceSyncOptions> sync,
    EffectiveOnnxRuntimeSettings onnxRuntime,
    ILogger<AgentStartupLog> logger) : IHostedService
{
    public static string Version =>
        typeof(AgentStartupLog).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var s = sync.Value;
        LogStarted(
            logger, Version, device.Value.Board, s.DeviceId, s.Fleet, s.BrokerUrl, Path.GetFullPath(s.DataDirectory),
            onnxRuntime.ExecutionProvider, onnxRuntime.IntraOpThreads, device.Value.MemoryLimitBytes >> 20);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information,
        Message = "dq-agent {Version} on {Board}: device {DeviceId} in fleet {Fleet}, broker {Broker}, data {DataDirectory}, onnxruntime {Provider} x{Threads}, memory cap {MemoryMiB} MiB")]
    private static partial void LogStarted(
        ILogger logger, string version, string board, string deviceId, string fleet, string broker, string dataDirectory, string provider, int threads, long memoryMiB);
}
