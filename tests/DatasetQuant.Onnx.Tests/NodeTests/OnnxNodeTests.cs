using System.Text;
using DatasetQuant.Testing;
using Xunit.Abstractions;

namespace DatasetQuant.Onnx.Tests.NodeTests;

public sealed class OnnxNodeTests(ITestOutputHelper output)
{
    // Floor for this machine's ONNX Runtime 1.30.0 CPU build and Debian's libonnx-testdata; a drop means a regression.
    private const int PassFloor = 855;

    [Fact]
    public void Onnx_node_tests_pass_for_every_supported_operator()
    {
        var root = Path.Combine(TestData.OnnxTestDataDirectory, "node");
        Assert.True(Directory.Exists(root), $"{root} is missing: apt-get install libonnx-testdata");
        var results = Directory.GetDirectories(root).Order(StringComparer.Ordinal).AsParallel().WithDegreeOfParallelism(2)
            .Select(OnnxNodeTestRunner.Run).ToList();

        var report = new StringBuilder();
        var passed = results.Count(r => r.Outcome == NodeTestOutcome.Passed);
        report.AppendLine($"ONNX node tests: {passed}/{results.Count} passed");
        foreach (var group in results.Where(r => r.Outcome != NodeTestOutcome.Passed).GroupBy(r => r.Outcome).OrderBy(g => g.Key))
        {
            report.AppendLine($"{group.Key}: {group.Count()}");
            foreach (var r in group.OrderBy(r => r.Name, StringComparer.Ordinal))
            {
                report.AppendLine($"  {r.Name}: {r.Detail}");
            }
        }

        output.WriteLine(report.ToString());
        File.WriteAllText(Path.Combine(AppContext.BaseDirectory, "onnx-node-tests.txt"), report.ToString());
        Assert.True(passed >= PassFloor, report.ToString());
        // Every failure must be one the binding cannot cause.
        Assert.True(results.All(r => r.Outcome != NodeTestOutcome.BindingError), report.ToString());
    }
}
