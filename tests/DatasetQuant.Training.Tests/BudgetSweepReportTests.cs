using DatasetQuant.Testing;
using DatasetQuant.Training.Experiments;

namespace DatasetQuant.Training.Tests;

public sealed class BudgetSweepReportTests
{
    private static BudgetSweepResult Result()
    {
        var cells = new List<SweepCell>();
        foreach (var budget in new[] { 0.5, 1.0 })
        {
            foreach (var method in BudgetSweepResult.Methods)
            {
                var baseAccuracy = method == "prune" ? 0.70 : 0.85;
                cells.Add(new SweepCell(method, budget, (long)(budget * 784 * 100 / 8), budget, [baseAccuracy + budget / 100, baseAccuracy + budget / 50]));
            }
        }

        return new BudgetSweepResult(new SweepCell("full", 8, 78_400, 8, [0.89, 0.88, 0.90]), cells, [0.5, 1.0], 2, 4, "784-256-10", 100, 50, TimeSpan.FromMinutes(3));
    }

    [Fact]
    public void The_table_has_a_row_per_budget_with_mean_and_std_per_method()
    {
        var text = BudgetSweepMarkdown.Format(Result(), "budget-sweep.svg");
        var lines = text.Split('\n');
        Assert.Contains("| 8 (uint8 original) | 78,400 | 0.8900 ± 0.0100 | | | | |", lines);
        Assert.Contains("| 1 | ≤ 9,800 | | 0.8650 ± 0.0071 | 0.8650 ± 0.0071 | 0.8650 ± 0.0071 | 0.7150 ± 0.0071 |", lines);
        Assert.Contains("![accuracy against bits per pixel](budget-sweep.svg)", lines);
    }

    [Fact]
    public void Writing_into_a_results_file_replaces_only_its_own_block()
    {
        using var temp = new TempDirectory("dq-sweep");
        var path = temp.File("results.md");
        File.WriteAllText(path, "# Results\n\n## Other area\nkept\n");
        BudgetSweepMarkdown.WriteInto(path, "<!-- dq budget-sweep: begin -->\nfirst\n<!-- dq budget-sweep: end -->\n");
        File.AppendAllText(path, "\n## Later section\nalso kept\n");
        BudgetSweepMarkdown.WriteInto(path, "<!-- dq budget-sweep: begin -->\nsecond\n<!-- dq budget-sweep: end -->\n");
        var text = File.ReadAllText(path);
        Assert.Equal("# Results\n\n## Other area\nkept\n\n<!-- dq budget-sweep: begin -->\nsecond\n<!-- dq budget-sweep: end -->\n\n## Later section\nalso kept\n", text);
    }

    [Fact]
    public void The_plot_is_well_formed_svg_with_a_line_per_method()
    {
        var svg = BudgetSweepSvg.Render(Result());
        var document = System.Xml.Linq.XDocument.Parse(svg);
        var ns = (System.Xml.Linq.XNamespace)"http://www.w3.org/2000/svg";
        Assert.Equal(4, document.Descendants(ns + "polyline").Count());
        Assert.Contains(document.Descendants(ns + "text"), t => t.Value == "random pruning");
        Assert.Contains(document.Descendants(ns + "title"), t => t.Value == "adaptive (model KL) at 1 bpp: 0.8650 ± 0.0071");
    }
}
