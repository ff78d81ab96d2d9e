using System.Diagnostics;
using System.Xml.Linq;
using DatasetQuant.Integration.Tests.Fleet;

namespace DatasetQuant.Integration.Tests.Board;

/// <summary>
/// Runs the arm64 builds under qemu-user. ONNX Runtime's CPU detection reads /proc/cpuinfo and crashes on the host's
/// x86 text, so every arm64 program runs in a private mount namespace with a board's cpuinfo bind-mounted over
/// /proc/cpuinfo: <c>unshare -m</c> as root (CI), <c>unshare -r -m</c> (a user namespace) otherwise. The arm64 builds
/// come from <c>./build.sh --target=test</c>, which cross-publishes them first and sets DQ_BOARD_TESTS=required:
/// there a missing piece fails the test; elsewhere it skips with the reason.
/// </summary>
public static class ArmEmulation
{
    private static readonly Lazy<string?> Missing = new(FindMissing);

    /// <summary>Set by build.cake's Test target: the board tests may not skip.</summary>
    public static bool Required => Environment.GetEnvironmentVariable("DQ_BOARD_TESTS") == "required";

    public static string Version =>
        XDocument.Load(Path.Combine(AgentProcess.RepositoryRoot, "Directory.Build.props")).Descendants("Version").First().Value;

    /// <summary>artifacts/dq-agent_VERSION_arm64.deb, packed by the Publish and Test targets.</summary>
    public static string AgentPackage => Path.Combine(AgentProcess.RepositoryRoot, "artifacts", $"dq-agent_{Version}_arm64.deb");

    /// <summary>The NativeAOT arm64 dq, published by the Test target (and by Publish --rid=linux-arm64 --aot).</summary>
    public static string Dq => Path.Combine(AgentProcess.RepositoryRoot, "artifacts", "publish", "linux-arm64", "cli", "dq");

    /// <summary>Why the arm64 programs cannot run here, or null when they can.</summary>
    public static string? Unavailable => Missing.Value;

    /// <summary>Null when the board tests run; otherwise why they skip (never under the Test target).</summary>
    public static string? SkipReason => Required ? null : Unavailable;

    /// <summary>First line of every board test: under the Test target a missing piece is a failure, with its reason.</summary>
    public static void EnsureAvailable()
    {
        if (Unavailable is { } reason)
        {
            Assert.Fail($"The board tests cannot run: {reason}");
        }
    }

    private static bool IsRoot => Environment.UserName == "root";

    /// <summary>
    /// The program and arguments that run <paramref name="arm64Program"/> as <paramref name="board"/>: unshare, then
    /// sh binds the cpuinfo and execs qemu-aarch64, so the process the caller holds is the emulated program itself
    /// (SIGTERM reaches the guest, and its exit code is the guest's).
    /// </summary>
    public static (string Program, string[] Args) Command(ArmBoard board, string arm64Program, IEnumerable<string> args) =>
        ("unshare",
        [
            .. IsRoot ? new[] { "--mount" } : ["--map-root-user", "--mount"],
            "sh", "-c", "mount --bind \"$0\" /proc/cpuinfo && exec qemu-aarch64 -cpu \"$@\"", board.CpuInfoPath, board.QemuCpu, arm64Program, .. args,
        ]);

    private static string? FindMissing()
    {
        foreach (var (file, how) in new[]
        {
            (AgentPackage, "./build.sh --target=publish --rid=linux-arm64 --aot packs it"),
            (Dq, "./build.sh --target=publish --rid=linux-arm64 --aot publishes it"),
        })
        {
            if (!File.Exists(file))
            {
                return $"{file} does not exist ({how}).";
            }
        }

        if (File.Exists(Path.ChangeExtension(Dq, ".dll")))
        {
            return $"{Dq} is a framework-dependent build; the board tests need the NativeAOT one (publish with --aot).";
        }

        // The namespace, the bind mount and the emulator, as every board test uses them.
        string[] prefix = IsRoot ? ["--mount"] : ["--map-root-user", "--mount"];
        var startInfo = new ProcessStartInfo("unshare")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in prefix.Concat(["sh", "-c", "mount --bind \"$0\" /proc/cpuinfo && grep -q 'CPU part' /proc/cpuinfo && exec qemu-aarch64 --version", ArmBoard.RaspberryPi4.CpuInfoPath]))
        {
            startInfo.ArgumentList.Add(arg);
        }

        try
        {
            using var process = Process.Start(startInfo)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEnd();
            if (!process.WaitForExit(30_000))
            {
                process.Kill();
                return "unshare ... qemu-aarch64 --version did not finish within 30 s.";
            }

            if (process.ExitCode == 0)
            {
                return null;
            }

            return IsRoot
                ? $"qemu-aarch64 with an ARM /proc/cpuinfo does not run here (exit {process.ExitCode}): {error.Trim()} {output.Result.Trim()} (Bootstrap installs qemu-user)."
                : $"not root, and a user namespace with a private mount (unshare -r -m) is refused here (exit {process.ExitCode}: {error.Trim()}). " +
                  "ONNX Runtime under qemu-user needs an ARM /proc/cpuinfo bind-mounted over the host's, which takes root or a user namespace: " +
                  "run as root (CI does), or allow unprivileged user namespaces.";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"unshare cannot be started: {ex.Message} (util-linux).";
        }
    }
}
