using System.CommandLine;

namespace DatasetQuant.Cli.Commands;

/// <summary>Every top-level dq command, in the order --help lists them. Each lives in its own file.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return EnvironmentCommand.Create();
        yield return QuantizeCommand.Create();
        yield return InspectCommand.Create();
        yield return VerifyCommand.Create();
        yield return TrainCommand.Create();
        yield return EvalCommand.Create();
        yield return ExperimentCommand.Create();
        yield return OnnxCommand.Create();
        yield return GeneratorCommand.Create();
        yield return SampleCommand.Create();
    }
}
