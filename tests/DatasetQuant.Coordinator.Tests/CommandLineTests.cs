using DatasetQuant.Coordinator.Store;
using DatasetQuant.Sync.Security;
using DatasetQuant.Testing;

namespace DatasetQuant.Coordinator.Tests;

/// <summary>The real dq-coordinator executable: help, option validation, keygen and status.</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly TempDirectory _dir = new("coord-cli");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Help_lists_every_command()
    {
        var result = await CoordinatorProcess.RunAsync("--help");
        Assert.Equal(0, result.ExitCode);
        foreach (var command in new[] { "keygen", "serve", "publish", "status" })
        {
            Assert.Contains(command, result.StdOut);
        }
    }

    [Fact]
    public async Task Keygen_writes_a_private_key_only_the_owner_can_read_and_a_loadable_public_key()
    {
        var keyPath = _dir.File("coordinator.pem");
        var result = await CoordinatorProcess.RunAsync("keygen", "--out", keyPath);
        Assert.True(result.ExitCode == 0, result.ToString());

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyPath));
        }

        using var privateKey = SigningKeyPem.LoadPrivateKey(keyPath);
        using var publicKey = SigningKeyPem.LoadPublicKey(_dir.File("coordinator.pub.pem"));
        Assert.Equal(SigningKeyPem.KeyId(privateKey), SigningKeyPem.KeyId(publicKey));
        Assert.Contains(SigningKeyPem.KeyId(publicKey), result.StdOut);
        Assert.DoesNotContain("PRIVATE", await File.ReadAllTextAsync(_dir.File("coordinator.pub.pem")));
    }

    [Fact]
    public async Task Keygen_refuses_to_overwrite_without_force()
    {
        var keyPath = _dir.File("k.pem");
        Assert.Equal(0, (await CoordinatorProcess.RunAsync("keygen", "--out", keyPath)).ExitCode);
        var before = await File.ReadAllTextAsync(keyPath);

        var again = await CoordinatorProcess.RunAsync("keygen", "--out", keyPath);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("--force", again.StdErr);
        Assert.Equal(before, await File.ReadAllTextAsync(keyPath));

        Assert.Equal(0, (await CoordinatorProcess.RunAsync("keygen", "--out", keyPath, "--force")).ExitCode);
        Assert.NotEqual(before, await File.ReadAllTextAsync(keyPath));
    }

    [Fact]
    public async Task Keygen_into_a_missing_folder_is_a_usage_error()
    {
        var result = await CoordinatorProcess.RunAsync("keygen", "--out", _dir.File("nope/k.pem"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("does not exist", result.StdErr);
    }

    [Fact]
    public async Task Serve_validates_its_options_before_touching_anything()
    {
        var result = await CoordinatorProcess.RunAsync(
            "serve", "--broker", "http://x:1", "--fleet", "bad/fleet", "--db", _dir.File("f.db"), "--key", _dir.File("missing.pem"),
            "--budget-min", "lots");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--broker", result.StdErr);
        Assert.Contains("scheme 'http'", result.StdErr);
        Assert.Contains("fleet name 'bad/fleet' contains '/'", result.StdErr);
        Assert.Contains("missing.pem", result.StdErr);
        Assert.Contains("'lots' is not a size", result.StdErr);
        Assert.False(File.Exists(_dir.File("f.db")));
    }

    [Fact]
    public async Task Serve_refuses_an_impossible_policy()
    {
        var key = _dir.File("k.pem");
        Assert.Equal(0, (await CoordinatorProcess.RunAsync("keygen", "--out", key)).ExitCode);
        var result = await CoordinatorProcess.RunAsync(
            "serve", "--broker", "mqtt://127.0.0.1:1", "--fleet", "lab", "--db", _dir.File("f.db"), "--key", key,
            "--budget-min", "2GiB", "--budget-max", "1GiB");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("maximum budget", result.StdErr);
    }

    [Fact]
    public async Task Publish_requires_its_options()
    {
        var result = await CoordinatorProcess.RunAsync("publish", "--broker", "mqtt://127.0.0.1:1883");
        Assert.Equal(1, result.ExitCode);
        foreach (var option in new[] { "--fleet", "--dataset", "--key" })
        {
            Assert.Contains(option, result.StdErr);
        }
    }

    [Fact]
    public async Task Publish_takes_shards_or_a_generator_not_both()
    {
        Directory.CreateDirectory(_dir.File("shards"));
        await File.WriteAllBytesAsync(_dir.File("G.onnx"), [1]);
        Assert.Equal(0, (await CoordinatorProcess.RunAsync("keygen", "--out", _dir.File("k.pem"))).ExitCode);
        var result = await CoordinatorProcess.RunAsync("publish", "--broker", "mqtt://127.0.0.1:1", "--fleet", "lab", "--dataset", "d",
            "--key", _dir.File("k.pem"), "--shards", _dir.File("shards"), "--generator", _dir.File("G.onnx"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("exactly one of --shards DIR and --generator G.onnx", result.StdErr);
    }

    [Fact]
    public async Task Publish_refuses_a_protocol_version_it_cannot_write_layers_in()
    {
        Directory.CreateDirectory(_dir.File("shards"));
        Assert.Equal(0, (await CoordinatorProcess.RunAsync("keygen", "--out", _dir.File("k.pem"))).ExitCode);
        foreach (var protocol in new[] { "1", "7" })
        {
            var result = await CoordinatorProcess.RunAsync("publish", "--broker", "mqtt://127.0.0.1:1", "--fleet", "lab", "--dataset", "d",
                "--key", _dir.File("k.pem"), "--shards", _dir.File("shards"), "--protocol", protocol);
            Assert.Equal(1, result.ExitCode);
            Assert.Contains("--protocol must be 2 to 6.", result.StdErr);
        }
    }

    [Fact]
    public async Task Publish_refuses_a_generator_that_is_not_a_trained_dim_before_connecting()
    {
        var shipped = Path.Combine(RepositoryRoot(), "generators", "fashion-mnist-dim");
        File.Copy(Path.Combine(shipped, "G.onnx"), _dir.File("G.onnx"));
        var manifest = (await File.ReadAllTextAsync(Path.Combine(shipped, "G.json"))).Replace("\"kind\": \"dim\"", "\"kind\": \"dim-random\"", StringComparison.Ordinal);
        await File.WriteAllTextAsync(_dir.File("G.json"), manifest);
        Assert.Equal(0, (await CoordinatorProcess.RunAsync("keygen", "--out", _dir.File("k.pem"))).ExitCode);

        var result = await CoordinatorProcess.RunAsync("publish", "--broker", "mqtt://127.0.0.1:1", "--fleet", "lab", "--dataset", "d",
            "--key", _dir.File("k.pem"), "--generator", _dir.File("G.onnx"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("G.json", result.StdErr);
        Assert.Contains("only a trained DiM generator", result.StdErr);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DatasetQuant.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no DatasetQuant.sln above {AppContext.BaseDirectory}");
    }

    [Fact]
    public async Task Status_of_a_missing_database_is_a_usage_error()
    {
        var result = await CoordinatorProcess.RunAsync("status", "--db", _dir.File("none.db"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no database", result.StdErr);
    }

    [Fact]
    public async Task Status_prints_devices_budgets_datasets_and_holdings()
    {
        var path = _dir.File("fleet.db");
        var now = DateTimeOffset.UtcNow;
        await using (var store = SqliteFleetStore.Open(path))
        {
            await store.RecordDeviceReportAsync(new DeviceReport("lab", "pi-1", now, "rpi-4", 3L << 30, 5L << 20,
                [new HeldShard("fmnist", 0, 2, 3L << 20), new HeldShard("fmnist", 1, 2, 2L << 20)]));
            await store.RecordDeviceReportAsync(new DeviceReport("lab", "pi-2", now, null, null, 0, []));
            await store.RecordDeviceOfflineAsync("lab", "pi-2", now.AddSeconds(1));
            await store.SetDesiredBudgetAsync("lab", "pi-1", 768L << 20, now);
            await store.CompleteBudgetPublishAsync("lab", "pi-1", "coordinator", 1);
            await store.RecordReportedBudgetAsync("lab", "pi-1", 1, 768L << 20);
            await store.RecordDatasetAsync(new DatasetRecord("lab", "fmnist", 2, now, "/srv/fmnist/v2",
                [new DatasetShard(0, "a.dqs", 3L << 20, "aa", 100), new DatasetShard(1, "b.dqs", 2L << 20, "bb", 50)]));
            await store.RecordBroadcastAsync(new BroadcastRecord("lab", "fmnist", 2, now, now, 40, 5_300_000));
            await store.RecordDatasetAsync(new DatasetRecord("lab", "fmnist-dim", 1, now, "/srv/dim",
                [new DatasetShard(0, "G.onnx", 3_626_241, "cc", 0), new DatasetShard(1, "G.json", 600, "dd", 0)]) { Kind = DatasetKinds.Generator });
            await store.RecordRepairAsync(new RepairRecord("lab", "pi-1", "fmnist", 2, "k", now, 3, 393_216));
        }

        var result = await CoordinatorProcess.RunAsync("status", "--db", path);
        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.StdOut.Split('\n');
        Assert.Contains("Devices (2, 1 online)", result.StdOut);
        var pi1 = Assert.Single(lines, l => l.StartsWith("lab    pi-1    rpi-4", StringComparison.Ordinal));
        Assert.Contains("online", pi1);
        Assert.Contains("3.0 GiB", pi1);
        Assert.Contains("768 MiB v1", pi1);
        Assert.DoesNotContain("pending", pi1);
        var pi2 = Assert.Single(lines, l => l.StartsWith("lab    pi-2", StringComparison.Ordinal));
        Assert.Contains("offline", pi2);
        Assert.Contains("Datasets (2)", result.StdOut);
        Assert.Single(lines, l => l.StartsWith("lab    dataset ", StringComparison.Ordinal) && l.Contains(" fmnist ", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith("lab    generator ", StringComparison.Ordinal) && l.Contains(" fmnist-dim ", StringComparison.Ordinal));
        Assert.Contains("/srv/fmnist/v2", result.StdOut);
        Assert.Contains("40 chunks", result.StdOut);
        Assert.Single(lines, l => l.StartsWith("lab    pi-1    fmnist", StringComparison.Ordinal) && l.Contains("5.0 MiB"));
        Assert.Contains("Repairs served", result.StdOut);
    }
}
