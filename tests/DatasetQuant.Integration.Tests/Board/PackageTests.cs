using System.Buffers.Binary;
using DatasetQuant.Integration.Tests.Fleet;

namespace DatasetQuant.Integration.Tests.Board;

/// <summary>What artifacts/dq-agent_VERSION_arm64.deb holds and says about itself: what dpkg -i puts on a board.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PackageTests(Arm64Package package) : IClassFixture<Arm64Package>
{
    private const ushort ElfMachineAarch64 = 183;

    [BoardFact]
    public void The_control_file_names_the_package_version_architecture_and_the_libraries_the_binary_loads()
    {
        ArmEmulation.EnsureAvailable();
        Assert.Equal("dq-agent", package.Control["Package"]);
        Assert.Equal(ArmEmulation.Version, package.Control["Version"]);
        Assert.Equal("arm64", package.Control["Architecture"]);

        // libonnxruntime links libstdc++; the BCL's ECDSA and TLS load OpenSSL at run time (3 or 1.1).
        var depends = package.Control["Depends"];
        foreach (var library in new[] { "libc6", "libstdc++6", "libssl3 | libssl1.1", "adduser" })
        {
            Assert.Contains(library, depends, StringComparison.Ordinal);
        }

        // Installed-Size is the KiB the unpacked tree takes on disk (du): its bytes, plus at most a 4 KiB block per entry.
        var entries = Directory.GetFileSystemEntries(package.Root, "*", SearchOption.AllDirectories);
        var unpacked = entries.Where(File.Exists).Sum(f => new FileInfo(f).Length);
        Assert.InRange(long.Parse(package.Control["Installed-Size"], System.Globalization.CultureInfo.InvariantCulture) * 1024, unpacked, unpacked + (entries.Length * 4096L));
    }

    [BoardFact]
    public void The_binary_and_the_onnx_runtime_are_aarch64_and_usr_bin_reaches_the_binary()
    {
        ArmEmulation.EnsureAvailable();
        Assert.Equal(ElfMachineAarch64, ElfMachine(package.PathOf("usr/lib/dq-agent/dq-agent")));
        Assert.Equal(ElfMachineAarch64, ElfMachine(package.PathOf("usr/lib/dq-agent/libonnxruntime.so")));
        Assert.Equal("../lib/dq-agent/dq-agent", new FileInfo(package.Agent).LinkTarget);
        Assert.True(File.GetUnixFileMode(package.PathOf("usr/lib/dq-agent/dq-agent")).HasFlag(UnixFileMode.OtherExecute));

        // Only what a board needs: no symbols, no managed .pdb, no Windows onnxruntime.dll.
        var shipped = Directory.GetFiles(package.PathOf("usr/lib/dq-agent")).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(["appsettings.json", "dq-agent", "libonnxruntime.so", "libonnxruntime_providers_shared.so"], shipped);
    }

    [BoardFact]
    public void It_installs_the_unit_on_the_packaged_binary_every_board_config_and_marks_etc_as_conffiles()
    {
        ArmEmulation.EnsureAvailable();
        var unit = File.ReadAllText(package.PathOf("lib/systemd/system/dq-agent.service"));
        Assert.Contains("\nExecStart=/usr/bin/dq-agent --device-config /etc/dq-agent/device.json\n", unit, StringComparison.Ordinal);
        Assert.Contains("\nType=notify\n", unit, StringComparison.Ordinal);
        Assert.Contains("\nUser=dq-agent\n", unit, StringComparison.Ordinal);
        Assert.Contains("\nStateDirectory=dq-agent\n", unit, StringComparison.Ordinal);

        foreach (var board in Directory.GetFiles(Path.Combine(AgentProcess.RepositoryRoot, "device-configs"), "*.json"))
        {
            Assert.Equal(File.ReadAllBytes(board), File.ReadAllBytes(package.BoardConfig(Path.GetFileNameWithoutExtension(board))));
        }

        var conffiles = File.ReadAllLines(Path.Combine(package.ControlDirectory, "conffiles"));
        var underEtc = Directory.GetFiles(package.PathOf("etc"), "*", SearchOption.AllDirectories).Select(f => "/" + Path.GetRelativePath(package.Root, f)).Order(StringComparer.Ordinal);
        Assert.Equal(underEtc, conffiles.Order(StringComparer.Ordinal));
    }

    [BoardFact]
    public async Task The_maintainer_scripts_are_valid_sh_and_postinst_makes_the_user_the_data_directory_and_the_board_config()
    {
        ArmEmulation.EnsureAvailable();
        foreach (var script in new[] { "postinst", "prerm", "postrm" })
        {
            var path = Path.Combine(package.ControlDirectory, script);
            Assert.True(File.GetUnixFileMode(path).HasFlag(UnixFileMode.UserExecute), $"{script} is not executable");
            var check = await Testing.ExternalProgram.RunAsync("sh", ["-n", path], TimeSpan.FromSeconds(10));
            Assert.True(check.ExitCode == 0, $"{script}: {check}");
        }

        var postinst = File.ReadAllText(Path.Combine(package.ControlDirectory, "postinst"));
        Assert.Contains("adduser --system", postinst, StringComparison.Ordinal);
        Assert.Contains("install -d -o dq-agent -g dq-agent -m 0750 /var/lib/dq-agent", postinst, StringComparison.Ordinal);

        // The board is recognised from its device-tree model: run postinst's own function on the models boards print.
        var models = new Dictionary<string, string>
        {
            ["Raspberry Pi 4 Model B Rev 1.5"] = "rpi-4",
            ["Raspberry Pi 5 Model B Rev 1.0"] = "rpi-5",
            ["Raspberry Pi Zero 2 W Rev 1.0"] = "rpi-zero-2w",
            ["NVIDIA Jetson Orin Nano Developer Kit"] = "jetson-orin-nano",
            ["Raspberry Pi 3 Model B Plus Rev 1.3"] = "",
        };
        var function = postinst[postinst.IndexOf("board_of_model()", StringComparison.Ordinal)..postinst.IndexOf("\nif [", StringComparison.Ordinal)];
        foreach (var (model, board) in models)
        {
            var run = await Testing.ExternalProgram.RunAsync("sh", ["-c", function + "\nboard_of_model \"$1\"", "sh", model], TimeSpan.FromSeconds(10));
            Assert.Equal(board, run.StdOut.Trim());
            Assert.True(board == "" || File.Exists(package.BoardConfig(board)), $"postinst picks {board}, which the package lacks");
        }
    }

    private static ushort ElfMachine(string path)
    {
        Span<byte> header = stackalloc byte[20];
        using var file = File.OpenRead(path);
        file.ReadExactly(header);
        Assert.True(header[..4].SequenceEqual("\u007fELF"u8), $"{path} is not an ELF file");
        Assert.Equal(2, header[4]); // 64-bit
        return BinaryPrimitives.ReadUInt16LittleEndian(header[18..]);
    }
}
