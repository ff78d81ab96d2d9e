using System.CommandLine;
using System.Globalization;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Cli.Commands;

/// <summary><c>dq requantize</c>: shards to a lower budget from their codes alone.</summary>
internal static class RequantizeCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "Shard files or folders of shards", Arity = ArgumentArity.OneOrMore };
        var budget = new Option<string>("--budget") { Description = "New payload budget: bits per pixel over all source samples (1bpp) or a size (4MiB)", Required = true };
        var output = new Option<string>("--out") { Description = "Folder for the new shards (the input folder replaces them in place, atomically)", Required = true };
        var allocator = new Option<string>("--allocator") { Description = "adaptive | uniform | prune", DefaultValueFactory = _ => "adaptive" };
        allocator.AcceptOnlyFromAmong([.. BitAllocators.Names]);
        var command = new Command("requantize", "Shrink shards to a lower budget from their codes alone (widths only go down).") { paths, budget, output, allocator };
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            var result = Requantizer.Requantize(DqsShardSet.ExpandPaths(parse.GetValue(paths)!), Budget.Parse(parse.GetValue(budget)!),
                parse.GetValue(output)!, BitAllocators.Create(parse.GetValue(allocator)!));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"payload {result.PayloadBytesBefore} -> {result.PayloadBytesAfter} bytes (budget {result.BudgetBytes}), samples {result.SamplesBefore} -> {result.SamplesAfter}, added MSE {result.MeanSquaredErrorAdded:F3}"));
            foreach (var path in result.ShardPaths)
            {
                Console.WriteLine(path);
            }

            return 0;
        }));
        return command;
    }
}
