using System.Diagnostics;
using DatasetQuant.Testing;

namespace DatasetQuant.Integration.Tests;

/// <summary>
/// Debian's mosquitto running deploy/mosquitto/dq-broker.conf and dq-broker.acl with certificates from
/// deploy/mosquitto/mint-certs.sh; only the listener and the file locations are rewritten for the test.
/// </summary>
public sealed class BrokerSecurityFixture : IAsyncLifetime
{
    public const string DeviceA = "dev-a";
    public const string DeviceB = "dev-b";
    public const string Coordinator = "dq-coordinator";

    private static readonly string DeployDirectory = Path.Combine(RepositoryRoot(), "deploy", "mosquitto");

    public TempDirectory Certificates { get; } = new("fleet-certs");

    public TempDirectory RogueCertificates { get; } = new("rogue-certs");

    public MosquittoBroker Broker { get; private set; } = null!;

    public MosquittoClients Clients { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await MintAsync(Certificates.Path, DeviceA, DeviceB);
        await MintAsync(RogueCertificates.Path, DeviceA);
        File.Copy(Path.Combine(DeployDirectory, "dq-broker.acl"), Certificates.File("dq-broker.acl"));
        var deployed = await File.ReadAllTextAsync(Path.Combine(DeployDirectory, "dq-broker.conf"));
        Assert.Contains("listener 8883\n", deployed, StringComparison.Ordinal);

        Broker = await MosquittoBroker.StartWithConfigAsync(port => deployed
            .Replace("listener 8883\n", $"listener {port} 127.0.0.1\n", StringComparison.Ordinal)
            .Replace("/etc/mosquitto/dq/", Certificates.Path + "/", StringComparison.Ordinal)
            .Replace("persistence true", "persistence false", StringComparison.Ordinal)
            // Run as whoever runs the tests: as root, mosquitto would otherwise switch to its own user and lose the keys.
            + $"\nuser {Environment.UserName}\nlog_dest stdout\n");
        Clients = new MosquittoClients(Broker.Port, Certificates.Path);
    }

    public async Task DisposeAsync()
    {
        await Broker.DisposeAsync();
        Certificates.Dispose();
        RogueCertificates.Dispose();
    }

    private static async Task MintAsync(string directory, params string[] devices)
    {
        var startInfo = new ProcessStartInfo(Path.Combine(DeployDirectory, "mint-certs.sh"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.ArgumentList.Add(directory);
        foreach (var device in devices)
        {
            startInfo.ArgumentList.Add(device);
        }

        using var process = Process.Start(startInfo)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"mint-certs.sh failed: {output}");
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

        throw new InvalidOperationException("DatasetQuant.sln not found above " + AppContext.BaseDirectory);
    }
}

public sealed class BrokerSecurityTests(BrokerSecurityFixture fleet) : IClassFixture<BrokerSecurityFixture>
{
    private const string A = BrokerSecurityFixture.DeviceA;
    private const string B = BrokerSecurityFixture.DeviceB;
    private const string Coordinator = BrokerSecurityFixture.Coordinator;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    // After the expected messages, how long to keep listening for ones that must not arrive. Messages from one
    // publisher arrive in order, and the forbidden ones are sent first, so this only covers the other publishers.
    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(500);

    [Fact]
    public async Task A_client_without_a_fleet_certificate_is_refused()
    {
        var withoutCertificate = await fleet.Clients.PublishAsync(null, $"dq/v1/lab/devices/{A}/state", "online");
        var withForeignCertificate = await fleet.Clients.PublishAsync(
            identity: null, $"dq/v1/lab/devices/{A}/state", "online", caFile: fleet.RogueCertificates.File("fleet-ca.crt"));
        var rogue = new MosquittoClients(fleet.Broker.Port, fleet.RogueCertificates.Path);
        var withRogueDeviceCertificate = await rogue.PublishAsync(A, $"dq/v1/lab/devices/{A}/state", "online",
            caFile: fleet.Certificates.File("fleet-ca.crt"));
        var control = await fleet.Clients.PublishAsync(A, $"dq/v1/lab/devices/{A}/state", "online");

        Assert.NotEqual(0, withoutCertificate.ExitCode);
        Assert.NotEqual(0, withForeignCertificate.ExitCode);
        Assert.NotEqual(0, withRogueDeviceCertificate.ExitCode);
        Assert.True(control.ExitCode == 0, control.Output);
    }

    [Fact]
    public async Task A_device_cannot_read_another_devices_topics()
    {
        using var snoop = await fleet.Clients.SubscribeAsync(A, $"dq/v1/lab/devices/{B}/#");
        using var owner = await fleet.Clients.SubscribeAsync(B, $"dq/v1/lab/devices/{B}/budget/desired");

        var published = await fleet.Clients.PublishAsync(Coordinator, $"dq/v1/lab/devices/{B}/budget/desired", "{\"version\":7,\"bytes\":1000000}");
        Assert.True(published.ExitCode == 0, published.Output);

        Assert.Equal([$"dq/v1/lab/devices/{B}/budget/desired {{\"version\":7,\"bytes\":1000000}}"], await owner.MessagesAsync(1, Timeout, Linger));
        Assert.Empty(await snoop.MessagesAsync(0, Timeout, Linger));
    }

    [Fact]
    public async Task A_device_can_publish_only_its_own_reports_never_budgets_or_manifests()
    {
        using var coordinator = await fleet.Clients.SubscribeAsync(Coordinator, "dq/v1/#");

        string[] forbidden =
        [
            $"dq/v1/lab/devices/{A}/budget/desired", $"dq/v1/lab/devices/{B}/budget/desired", "dq/v1/lab/datasets/fmnist/manifest",
            "dq/v1/lab/datasets/fmnist/chunks", $"dq/v1/lab/devices/{B}/state", $"dq/v1/lab/devices/{B}/pull",
        ];
        foreach (var topic in forbidden)
        {
            await fleet.Clients.PublishAsync(A, topic, "forged");
        }

        string[] allowed = [$"dq/v1/lab/devices/{A}/state", $"dq/v1/lab/devices/{A}/budget/reported", $"dq/v1/lab/devices/{A}/pull"];
        foreach (var topic in allowed)
        {
            var result = await fleet.Clients.PublishAsync(A, topic, "mine");
            Assert.True(result.ExitCode == 0, result.Output);
        }

        Assert.Equal(allowed.Select(t => t + " mine"), await coordinator.MessagesAsync(allowed.Length, Timeout, Linger));
    }

    [Fact]
    public async Task The_coordinator_publishes_budgets_and_manifests_that_the_device_reads()
    {
        using var device = await fleet.Clients.SubscribeAsync(A, "dq/v1/lab/#");

        string[] topics = [$"dq/v1/lab/devices/{A}/budget/desired", "dq/v1/lab/datasets/fmnist/manifest", $"dq/v1/lab/devices/{A}/chunks"];
        foreach (var topic in topics)
        {
            var result = await fleet.Clients.PublishAsync(Coordinator, topic, "signed");
            Assert.True(result.ExitCode == 0, result.Output);
        }

        Assert.Equal(topics.Select(t => t + " signed"), await device.MessagesAsync(topics.Length, Timeout, Linger));
    }
}
