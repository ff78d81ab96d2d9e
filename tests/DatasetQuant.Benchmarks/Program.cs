using BenchmarkDotNet.Running;

namespace DatasetQuant.Benchmarks;

internal static class Program
{
    // Runs the benchmarks the arguments select, e.g. --filter '*Decode*'. See docs/benchmarks.md.
    private static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
