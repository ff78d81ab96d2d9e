using System.Text;
using DatasetQuant.Testing;
using Xunit.Abstractions;

namespace DatasetQuant.Onnx.Tests.NodeTests;

public sealed class OnnxNodeTests(ITestOutputHelper output)
{
    [Fact]
    public void Onnx_node_tests_pass_except_the_listed_ones_that_are_not_the_bindings_fault()
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

        var expected = ExpectedNodeTestFailures.All;
        var problems = new List<string>();
        foreach (var r in results)
        {
            if (expected.TryGetValue(r.Name, out var listed))
            {
                if (r.Outcome == NodeTestOutcome.Passed)
                {
                    problems.Add($"{r.Name} now passes: take it off ExpectedNodeTestFailures");
                }
                else if (r.Outcome != listed.Outcome)
                {
                    problems.Add($"{r.Name}: {r.Outcome} ({r.Detail}), listed as {listed.Outcome}");
                }
            }
            else if (r.Outcome != NodeTestOutcome.Passed)
            {
                problems.Add($"{r.Name}: {r.Outcome} ({r.Detail})");
            }
        }

        var names = results.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        problems.AddRange(expected.Keys.Where(k => !names.Contains(k)).Select(k => $"{k} is listed but is not among the tests"));
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems) + Environment.NewLine + report);
        Assert.Equal(results.Count - expected.Count, passed);
    }
}
