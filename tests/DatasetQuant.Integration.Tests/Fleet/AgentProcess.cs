using DatasetQuant.Testing;

namespace DatasetQuant.Integration.Tests.Fleet;

/// <summary>dq-agent from its build output (src/DatasetQuant.Agent/bin/CONFIG/TFM), started as a child process.</summary>
public sealed class AgentProcess : ChildProcess
{
    private AgentProcess(IEnumerable<string> args)
        : base("dq-agent", "dotnet", args)
    {
    }

    public static string AgentDll
    {
        get
        {
            var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var path = Path.Combine(RepositoryRoot, "src", "DatasetQuant.Agent", "bin", bin.Parent!.Name, bin.Name, "dq-agent.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"dq-agent is not built at {path}");
        }
    }

    /// <summary>tests/DatasetQuant.Integration.Tests/bin/CONFIG/TFM/ is five levels below the repository root.</summary>
    public static string RepositoryRoot =>
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Parent!.Parent!.Parent!.Parent!.FullName;

    /// <summary>A board configuration from device-configs/.</summary>
    public static string DeviceConfig(string board) => Path.Combine(RepositoryRoot, "device-configs", board + ".json");

    public static AgentProcess Start(params string[] args) => new([AgentDll, .. args]);
}
