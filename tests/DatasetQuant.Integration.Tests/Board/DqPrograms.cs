using DatasetQuant.Integration.Tests.Fleet;
using DatasetQuant.Testing;

namespace DatasetQuant.Integration.Tests.Board;

/// <summary>The same dq command on x64 (the build output, under dotnet) and on an emulated arm64 board (NativeAOT).</summary>
public static class DqPrograms
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    public static string X64Dll
    {
        get
        {
            var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var path = Path.Combine(AgentProcess.RepositoryRoot, "src", "DatasetQuant.Cli", "bin", bin.Parent!.Name, bin.Name, "dq.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"dq is not built at {path}");
        }
    }

    public static async Task<ToolResult> X64Async(params string[] args)
    {
        var result = await ExternalProgram.RunAsync("dotnet", [X64Dll, .. args], Timeout);
        Assert.True(result.ExitCode == 0, $"x64 dq {string.Join(' ', args)}: {result}");
        return result;
    }

    public static async Task<ToolResult> Arm64Async(ArmBoard board, params string[] args)
    {
        var (program, arguments) = ArmEmulation.Command(board, ArmEmulation.Dq, args);
        var result = await ExternalProgram.RunAsync(program, arguments, Timeout);
        Assert.True(result.ExitCode == 0, $"arm64 dq {string.Join(' ', args)} as {board}: {result}");
        return result;
    }
}
