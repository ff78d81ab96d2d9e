using DatasetQuant.Onnx.Generators;

namespace DatasetQuant.Training.Experiments;

/// <summary>One way of spending flash bytes, trained and tested once per seed.</summary>
/// <param name="Method"><see cref="Shards"/>, <see cref="Generator"/> or <see cref="Both"/>.</param>
/// <param name="FlashBytes">Bytes on flash: shard files, generator files (model and manifest), or both.</param>
/// <param name="ShardBytes">Of those, the shards' bytes.</param>
/// <param name="RealSamples">Real samples the shards keep (the generator's samples a pass when it is alone).</param>
/// <param name="Ratio">Synthetic share of every pass: 0 for shards alone, 1 for the generator alone.</param>
public sealed record FrontierCell(string Method, long FlashBytes, long ShardBytes, int RealSamples, double Ratio, IReadOnlyList<double> Accuracies)
{
    public const string Shards = "shards";
    public const string Generator = "generator";
    public const string Both = "shards+generator";

    public double Mean => Accuracies.Average();
}

public sealed record GeneratorFrontierResult(
    IReadOnlyList<FrontierCell> Cells, long GeneratorBytes, int Seeds, long Presentations, string Shape, int TrainCount, int TestCount, TimeSpan Elapsed)
{
    public FrontierCell GeneratorAlone => Cells.Single(c => c.Method == FrontierCell.Generator);

    /// <summary>
    /// What the frontier says a device holding the generator should do at each measured shard size: mix at the
    /// ratio that scored best when that beat the shards alone at the same shard bytes, otherwise not at all.
    /// </summary>
    public IReadOnlyList<GeneratorMixing> MixingRule()
    {
        var rule = new List<GeneratorMixing>();
        foreach (var group in Cells.Where(c => c.Method == FrontierCell.Both).GroupBy(c => c.ShardBytes).OrderBy(g => g.Key))
        {
            var alone = Cells.FirstOrDefault(c => c.Method == FrontierCell.Shards && c.FlashBytes == group.Key);
            var best = group.MaxBy(c => c.Mean)!;
            var helps = alone is null || best.Mean > alone.Mean;
            rule.Add(new GeneratorMixing { ShardBytes = group.Key, Ratio = helps ? best.Ratio : 0 });
        }

        return rule;
    }

    /// <summary>The best accuracy reached within each budget, per method: the frontier's lines.</summary>
    public IReadOnlyList<(string Method, long Bytes, double Accuracy, double Ratio)> Lines()
    {
        var lines = new List<(string, long, double, double)>();
        foreach (var method in new[] { FrontierCell.Shards, FrontierCell.Generator, FrontierCell.Both })
        {
            foreach (var group in Cells.Where(c => c.Method == method).GroupBy(c => c.FlashBytes).OrderBy(g => g.Key))
            {
                var best = group.MaxBy(c => c.Mean)!;
                lines.Add((method, group.Key, best.Mean, best.Ratio));
            }
        }

        return lines;
    }
}
