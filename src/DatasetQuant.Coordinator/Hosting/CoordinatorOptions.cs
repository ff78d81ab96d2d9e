using DatasetQuant.Coordinator.Planning;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Coordinator.Hosting;

/// <summary>What <c>dq-coordinator serve</c> runs with; validated when the host starts.</summary>
public sealed class CoordinatorOptions
{
    public string BrokerUrl { get; set; } = "";

    public string Fleet { get; set; } = "";

    /// <summary>The fleet store: a SQLite file, or a <c>postgres://</c> URL (see <see cref="Store.FleetDatabase"/>).</summary>
    public string Database { get; set; } = "";

    /// <summary>The ECDSA P-256 private key; serve does not sign, but refuses to start without the key it would publish with.</summary>
    public string SigningKeyPath { get; set; } = "";

    /// <summary>MQTT client id; defaults to <c>dq-coordinator-{fleet}-{host}</c>.</summary>
    public string? ClientId { get; set; }

    /// <summary>
    /// With a group name, pulls are taken through <c>$share/{group}/...</c> so several coordinators split repairs.
    /// Device state stays a plain subscription: retained state is not delivered to shared subscriptions.
    /// </summary>
    public string? ShareGroup { get; set; }

    public string? TlsCaFile { get; set; }

    public string? TlsCertificateFile { get; set; }

    public string? TlsKeyFile { get; set; }

    public BudgetPolicy Policy { get; set; } = new();

    /// <summary><c>[HOST:]PORT</c> of the read-only fleet page, JSON API and metrics; null for none. HOST defaults to loopback.</summary>
    public string? Http { get; set; }

    /// <summary>Rules <c>PATTERN=BOARD</c> naming each device's board, for the policy's per-board caps.</summary>
    public List<string> DeviceBoards { get; set; } = [];

    /// <summary>How often pending budgets are retried and the dataset catalog re-read from the store.</summary>
    public TimeSpan HousekeepingInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Pulls waiting for an answer; beyond this the oldest is dropped (the device asks again).</summary>
    public int RepairQueueCapacity { get; set; } = 1024;

    public string EffectiveClientId => ClientId ?? $"dq-coordinator-{Fleet}-{Environment.MachineName}";
}

/// <summary>Checks <see cref="CoordinatorOptions"/> at start and names every option that is wrong.</summary>
internal sealed class CoordinatorOptionsValidator : IValidateOptions<CoordinatorOptions>
{
    public ValidateOptionsResult Validate(string? name, CoordinatorOptions options)
    {
        var failures = new List<string>();
        if (Commands.BrokerUrl.Problem(options.BrokerUrl) is { } broker)
        {
            failures.Add($"BrokerUrl: {broker}");
        }

        if (Commands.CoordinatorCommandOptions.NameProblem(options.Fleet, "fleet") is { } fleet)
        {
            failures.Add($"Fleet: {fleet}");
        }

        if (Store.FleetDatabase.Problem(options.Database, mustExist: false) is { } database)
        {
            failures.Add($"Database: {database}");
        }

        if (!File.Exists(options.SigningKeyPath))
        {
            failures.Add($"SigningKeyPath: '{options.SigningKeyPath}' does not exist.");
        }

        if (options.ShareGroup is not null && Commands.CoordinatorCommandOptions.NameProblem(options.ShareGroup, "share group") is { } group)
        {
            failures.Add($"ShareGroup: {group}");
        }

        try
        {
            options.Policy.Validate();
        }
        catch (ArgumentException ex)
        {
            failures.Add($"Policy: {ex.Message}");
        }

        foreach (var rule in options.DeviceBoards)
        {
            try
            {
                new DeviceBoardMap().Add(rule);
            }
            catch (ArgumentException ex)
            {
                failures.Add($"DeviceBoards: {ex.Message}");
            }
        }

        if (options.Http is not null)
        {
            try
            {
                Web.HttpListenAddress.Parse(options.Http);
            }
            catch (ArgumentException ex)
            {
                failures.Add($"Http: {ex.Message}");
            }
        }

        if (options.HousekeepingInterval <= TimeSpan.Zero)
        {
            failures.Add($"HousekeepingInterval: must be positive, got {options.HousekeepingInterval}.");
        }

        if (options.RepairQueueCapacity < 1)
        {
            failures.Add($"RepairQueueCapacity: must be at least 1, got {options.RepairQueueCapacity}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
