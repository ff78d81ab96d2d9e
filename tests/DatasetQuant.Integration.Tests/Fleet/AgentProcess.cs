using System.Diagnostics;

namespace DatasetQuant.Integration.Tests.Fleet;

/// <summary>dq-agent from its build output (src/DatasetQuant.Agent/bin/CONFIG/TFM), started as a child process.</summary>
public sealed class AgentProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    private AgentProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join(Environment.NewLine, _output);
            }
        }
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

    public static AgentProcess Start(params string[] args)
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(AgentDll);
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        startInfo.Environment["NO_COLOR"] = "1";
        return new AgentProcess(Process.Start(startInfo)!);
    }

    /// <summary>SIGKILL, as a power cut would stop it: no shutdown code runs.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
        }

        _process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Add(line);
        }
    }
}
