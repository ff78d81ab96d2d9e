using System.Globalization;
using System.Text;

namespace DatasetQuant.Training.Experiments;

/// <summary>Accuracy against bits per pixel (log₂ axis) as a self-contained SVG: one line per method, ±std bars, full precision dashed.</summary>
public static class BudgetSweepSvg
{
    private const double Width = 720;
    private const double Height = 440;
    private const double Left = 70;
    private const double Right = 200;
    private const double Top = 30;
    private const double Bottom = 60;

    private static readonly string[] Colors = ["#1f77b4", "#2ca02c", "#ff7f0e", "#d62728"];

    public static string Render(BudgetSweepResult result)
    {
        var inv = CultureInfo.InvariantCulture;
        var budgets = result.Budgets.OrderBy(b => b).ToArray();
        var minX = Math.Log2(budgets[0]);
        var maxX = Math.Log2(8);
        var values = result.Cells.SelectMany(c => new[] { c.Mean - c.StandardDeviation, c.Mean + c.StandardDeviation })
            .Append(result.FullPrecision.Mean).Where(double.IsFinite).ToArray();
        var minY = Math.Floor((values.Min() - 0.01) * 50) / 50;
        var maxY = Math.Ceiling((values.Max() + 0.005) * 50) / 50;
        if (maxY - minY < 0.02)
        {
            maxY = minY + 0.02;
        }

        double X(double bpp) => Left + ((Math.Log2(bpp) - minX) / Math.Max(maxX - minX, 1e-9) * (Width - Left - Right));
        double Y(double accuracy) => Top + ((maxY - accuracy) / (maxY - minY) * (Height - Top - Bottom));

        var svg = new StringBuilder();
        svg.AppendLine(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">");
        svg.AppendLine(inv, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>");
        svg.AppendLine(inv, $"<text x=\"{Left}\" y=\"18\" font-size=\"14\">Fashion-MNIST test accuracy against bits per pixel ({result.Model}, {result.Epochs} epochs, {result.Seeds} seed(s))</text>");

        // Axes, grid and ticks.
        var plotBottom = Height - Bottom;
        svg.AppendLine(inv, $"<line x1=\"{Left}\" y1=\"{plotBottom}\" x2=\"{Width - Right}\" y2=\"{plotBottom}\" stroke=\"black\"/>");
        svg.AppendLine(inv, $"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{plotBottom}\" stroke=\"black\"/>");
        foreach (var bpp in budgets.Append(8.0).Distinct())
        {
            var x = X(bpp);
            svg.AppendLine(inv, $"<line x1=\"{x:F1}\" y1=\"{Top}\" x2=\"{x:F1}\" y2=\"{plotBottom}\" stroke=\"#ddd\"/>");
            svg.AppendLine(inv, $"<text x=\"{x:F1}\" y=\"{plotBottom + 18}\" text-anchor=\"middle\">{bpp}</text>");
        }

        for (var tick = minY; tick <= maxY + 1e-9; tick += (maxY - minY) / 5)
        {
            var y = Y(tick);
            svg.AppendLine(inv, $"<line x1=\"{Left}\" y1=\"{y:F1}\" x2=\"{Width - Right}\" y2=\"{y:F1}\" stroke=\"#eee\"/>");
            svg.AppendLine(inv, $"<text x=\"{Left - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{tick:F3}</text>");
        }

        svg.AppendLine(inv, $"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 20}\" text-anchor=\"middle\">bits per pixel (log scale)</text>");
        svg.AppendLine(inv, $"<text x=\"18\" y=\"{(Top + plotBottom) / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {(Top + plotBottom) / 2})\">test accuracy</text>");

        // Full precision reference.
        var fullY = Y(result.FullPrecision.Mean);
        svg.AppendLine(inv, $"<line x1=\"{Left}\" y1=\"{fullY:F1}\" x2=\"{Width - Right}\" y2=\"{fullY:F1}\" stroke=\"black\" stroke-dasharray=\"6 4\"/>");
        svg.AppendLine(inv, $"<circle cx=\"{X(8):F1}\" cy=\"{fullY:F1}\" r=\"4\" fill=\"black\"/>");

        for (var m = 0; m < BudgetSweepResult.Methods.Count; m++)
        {
            var method = BudgetSweepResult.Methods[m];
            var color = Colors[m % Colors.Length];
            var points = budgets.Select(b => result.Cell(method, b)).Where(c => c is not null).Select(c => c!).ToArray();
            if (points.Length == 0)
            {
                continue;
            }

            svg.Append(inv, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"");
            svg.AppendJoin(' ', points.Select(c => string.Create(inv, $"{X(c.BudgetBitsPerPixel):F1},{Y(c.Mean):F1}")));
            svg.AppendLine("\"/>");
            foreach (var c in points)
            {
                var x = X(c.BudgetBitsPerPixel);
                svg.AppendLine(inv, $"<line x1=\"{x:F1}\" y1=\"{Y(c.Mean - c.StandardDeviation):F1}\" x2=\"{x:F1}\" y2=\"{Y(c.Mean + c.StandardDeviation):F1}\" stroke=\"{color}\"/>");
                svg.AppendLine(inv, $"<circle cx=\"{x:F1}\" cy=\"{Y(c.Mean):F1}\" r=\"3.5\" fill=\"{color}\"><title>{BudgetSweepResult.Title(method)} at {c.BudgetBitsPerPixel} bpp: {c.Mean:F4} ± {c.StandardDeviation:F4}</title></circle>");
            }

            var legendY = Top + 20 + (m * 22);
            svg.AppendLine(inv, $"<line x1=\"{Width - Right + 15}\" y1=\"{legendY}\" x2=\"{Width - Right + 40}\" y2=\"{legendY}\" stroke=\"{color}\" stroke-width=\"2\"/>");
            svg.AppendLine(inv, $"<text x=\"{Width - Right + 46}\" y=\"{legendY + 4}\">{BudgetSweepResult.Title(method)}</text>");
        }

        var fullLegend = Top + 20 + (BudgetSweepResult.Methods.Count * 22);
        svg.AppendLine(inv, $"<line x1=\"{Width - Right + 15}\" y1=\"{fullLegend}\" x2=\"{Width - Right + 40}\" y2=\"{fullLegend}\" stroke=\"black\" stroke-dasharray=\"6 4\"/>");
        svg.AppendLine(inv, $"<text x=\"{Width - Right + 46}\" y=\"{fullLegend + 4}\">full precision</text>");
        svg.AppendLine("</svg>");
        return svg.ToString();
    }
}
