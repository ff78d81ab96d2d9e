using System.CommandLine;
using DatasetQuant.Core.Formats.Dqs;

namespace DatasetQuant.Cli.Commands;

/// <summary><c>dq verify</c>: every checksum and field of every shard; exit 0 only when all hold.</summary>
internal static class VerifyCommand
{
    public const int Damaged = 1;

    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "Shard files or folders of shards", Arity = ArgumentArity.OneOrMore };
        var command = new Command("verify", "Check every checksum and field of the shards; exit 0 when all hold, 1 naming the file and sample or field otherwise.") { paths };
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            var files = DqsShardSet.ExpandPaths(parse.GetValue(paths)!);
            if (files.Count == 0)
            {
                throw new FileNotFoundException($"no .dqs shards in {string.Join(", ", parse.GetValue(paths)!)}.");
            }

            var failed = 0;
            foreach (var result in DqsVerifier.VerifySet(files))
            {
                if (result.IsValid)
                {
                    Console.WriteLine($"ok      {result.Path}");
                    continue;
                }

                failed++;
                Console.WriteLine($"FAILED  {result.Path}");
                foreach (var problem in result.Problems)
                {
                    Console.Error.WriteLine(problem);
                }
            }

            return failed == 0 ? 0 : Damaged;
        }));
        return command;
    }
}
