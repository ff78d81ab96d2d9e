using DatasetQuant.Testing;

namespace DatasetQuant.Integration.Tests.Board;

/// <summary>
/// artifacts/dq-agent_VERSION_arm64.deb unpacked with dpkg-deb into a temporary root: the board tests run the
/// binary, the libonnxruntime and the board configs the package installs, not the build folder's.
/// </summary>
public sealed class Arm64Package : IDisposable
{
    private readonly TempDirectory _dir = new("deb-arm64");
    private readonly Dictionary<string, string> _fields = new(StringComparer.Ordinal);

    public Arm64Package()
    {
        if (ArmEmulation.Unavailable is not null)
        {
            return; // each test says why, or skips
        }

        Path = ArmEmulation.AgentPackage;
        Run("dpkg-deb", "-x", Path, Root);
        Run("dpkg-deb", "-e", Path, System.IO.Path.Combine(_dir.Path, "DEBIAN"));
        string? last = null;
        foreach (var line in File.ReadLines(System.IO.Path.Combine(_dir.Path, "DEBIAN", "control")))
        {
            if (line.StartsWith(' ') && last is not null)
            {
                _fields[last] += "\n" + line.Trim();
            }
            else if (line.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon)
            {
                last = line[..colon];
                _fields[last] = line[(colon + 1)..].Trim();
            }
        }
    }

    public string Path { get; } = "";

    /// <summary>The unpacked file system: Root/usr/bin/dq-agent and so on.</summary>
    public string Root => System.IO.Path.Combine(_dir.Path, "root");

    public string ControlDirectory => System.IO.Path.Combine(_dir.Path, "DEBIAN");

    public IReadOnlyDictionary<string, string> Control => _fields;

    /// <summary>The packaged binary, reached through /usr/bin as systemd's ExecStart reaches it.</summary>
    public string Agent => System.IO.Path.Combine(Root, "usr", "bin", "dq-agent");

    public string BoardConfig(string board) => System.IO.Path.Combine(Root, "etc", "dq-agent", "boards", board + ".json");

    public string PathOf(string relative) => System.IO.Path.Combine(Root, relative);

    public void Dispose() => _dir.Dispose();

    private static void Run(string program, params string[] args)
    {
        var result = ExternalProgram.RunAsync(program, args, TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)}: {result}");
        }
    }
}
