using System.Globalization;
using System.Text;

namespace DatasetQuant.Training.Experiments;

/// <summary>The frontier as a Markdown table (every cell) and as an SVG plot of accuracy against log bytes.</summary>
public static class GeneratorFrontierReport
{
    public static string Markdown(GeneratorFrontierResult result)
    {
        var text = new StringBuilder();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"MLP {result.Shape}, {result.Presentations:N0} sample presentations per run, {result.Seeds} seed(s) per cell, trained on {result.TrainCount:N0} training images (or their shards), tested on the {result.TestCount:N0} real test images; generator files {result.GeneratorBytes:N0} bytes; {result.Elapsed.TotalMinutes:F1} min."));
        text.AppendLine();
        text.AppendLine("| method | flash bytes | shard bytes | real samples kept | synthetic share | accuracy (mean) | per seed |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---|");
        foreach (var cell in result.Cells.OrderBy(c => c.FlashBytes).ThenBy(c => c.Method, StringComparer.Ordinal).ThenBy(c => c.Ratio))
        {
            text.AppendLine(Invariant($"| {cell.Method} | {cell.FlashBytes:N0} | {cell.ShardBytes:N0} | {cell.RealSamples:N0} | {cell.Ratio:0.##} | {cell.Mean:F4} | {string.Join(" ", cell.Accuracies.Select(a => a.ToString("F4", CultureInfo.InvariantCulture)))} |"));
        }

        text.AppendLine();
        var rule = result.MixingRule();
        text.AppendLine("Mixing rule these cells give (`--write-mixing` writes it into the generator's manifest): " + (rule.Count == 0
            ? "none (no cell mixed shards and generator)"
            : string.Join(", ", rule.Select(m => Invariant($"{m.ShardBytes:N0} shard bytes → {m.Ratio:0.##}")))));
        return text.ToString();
    }

    public static string Svg(GeneratorFrontierResult result)
    {
        const double W = 720, H = 420, L = 70, R = 180, T = 30, B = 50;
        var lines = result.Lines();
        var minX = Math.Log2(lines.Min(l => l.Bytes)) - 0.2;
        var maxX = Math.Log2(lines.Max(l => l.Bytes)) + 0.2;
        var minY = Math.Floor(lines.Min(l => l.Accuracy) * 20) / 20;
        const double maxY = 1.0;
        double X(long bytes) => L + ((Math.Log2(bytes) - minX) / (maxX - minX) * (W - L - R));
        double Y(double acc) => T + ((maxY - acc) / (maxY - minY) * (H - T - B));
        var svg = new StringBuilder();
        svg.AppendLine(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"12\">"));
        svg.AppendLine(Invariant($"<rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>"));
        svg.AppendLine(Invariant($"<text x=\"{L}\" y=\"18\" font-size=\"14\">Fashion-MNIST test accuracy against flash bytes (best ratio per point)</text>"));
        for (var y = minY; y <= maxY + 1e-9; y += 0.05)
        {
            svg.AppendLine(Invariant($"<line x1=\"{L}\" x2=\"{W - R}\" y1=\"{Y(y):F1}\" y2=\"{Y(y):F1}\" stroke=\"#ddd\"/><text x=\"{L - 8}\" y=\"{Y(y) + 4:F1}\" text-anchor=\"end\">{y:F2}</text>"));
        }

        for (var e = (int)Math.Ceiling(minX); e <= maxX; e++)
        {
            var bytes = 1L << e;
            var label = bytes >= 1 << 20 ? Invariant($"{bytes >> 20} MB") : Invariant($"{bytes >> 10} KB");
            svg.AppendLine(Invariant($"<line x1=\"{X(bytes):F1}\" x2=\"{X(bytes):F1}\" y1=\"{T}\" y2=\"{H - B}\" stroke=\"#eee\"/><text x=\"{X(bytes):F1}\" y=\"{H - B + 16}\" text-anchor=\"middle\">{label}</text>"));
        }

        svg.AppendLine(Invariant($"<text x=\"{(L + W - R) / 2}\" y=\"{H - 12}\" text-anchor=\"middle\">flash bytes (log scale)</text>"));
        var styles = new[] { (FrontierCell.Shards, "#1f77b4", "adaptive shards alone"), (FrontierCell.Generator, "#d62728", "generator alone"), (FrontierCell.Both, "#2ca02c", "shards + generator") };
        var legendY = T + 10.0;
        foreach (var (method, colour, title) in styles)
        {
            var points = lines.Where(l => l.Method == method).ToList();
            if (points.Count > 1)
            {
                svg.AppendLine($"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{string.Join(" ", points.Select(p => Invariant($"{X(p.Bytes):F1},{Y(p.Accuracy):F1}")))}\"/>");
            }

            foreach (var p in points)
            {
                svg.AppendLine(Invariant($"<circle cx=\"{X(p.Bytes):F1}\" cy=\"{Y(p.Accuracy):F1}\" r=\"4\" fill=\"{colour}\"><title>{title}: {p.Bytes:N0} bytes, {p.Accuracy:F4}</title></circle>"));
            }

            svg.AppendLine(Invariant($"<rect x=\"{W - R + 15}\" y=\"{legendY - 9}\" width=\"12\" height=\"12\" fill=\"{colour}\"/><text x=\"{W - R + 32}\" y=\"{legendY + 1}\">{title}</text>"));
            legendY += 20;
        }

        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}
