using BenchmarkDotNet.Running;

namespace DatasetQuant.Benchmarks;

internal static class Program
{
    // Runs the benchmarks the arguments select, e.g. --filter '*Decode*'. See docs/benchmarks.md.
    private static async Task<int> Main(string[] args)
    {
        if (args is ["fleet-push", ..])
        {
            return await FleetPushMeasurement.RunAsync(args);
        }

        if (args is ["mqtt-throughput", ..])
        {
            return await Mqtt.ThroughputMeasurement.RunAsync(args);
        }

        if (args is ["mqtt-transport", ..])
        {
            return await Mqtt.TransportMeasurement.RunAsync(args);
        }

        if (args is ["coordinator-scale", ..])
        {
            return await CoordinatorScaleMeasurement.RunAsync(args);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
