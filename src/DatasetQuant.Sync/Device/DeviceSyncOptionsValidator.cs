using Microsoft.Extensions.Options;

namespace DatasetQuant.Sync.Device;

/// <summary>
/// Checks the shape of the <c>Sync</c> section (<see cref="DeviceSyncOptions"/>); every message names the field as it is
/// written in a config. Whether the files it names exist is <see cref="DeviceSyncFilesValidator"/>'s question, so a
/// config can be checked away from the board it is for.
/// </summary>
public sealed class DeviceSyncOptionsValidator : IValidateOptions<DeviceSyncOptions>
{
    private const string S = DeviceSyncOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, DeviceSyncOptions options)
    {
        var failures = new List<string>();
        var tls = ValidateBrokerUrl(options.BrokerUrl, failures);
        ValidateName("Fleet", options.Fleet, failures);
        ValidateName("DeviceId", options.DeviceId, failures);
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            failures.Add($"{S}:DataDirectory is required (for example /var/lib/dq-agent).");
        }

        if (string.IsNullOrWhiteSpace(options.CoordinatorKeyPath))
        {
            failures.Add($"{S}:CoordinatorKeyPath is required: the PEM public key that dataset manifests are signed with.");
        }

        if (options.FlashQuotaBytes is < 1 << 20)
        {
            failures.Add($"{S}:FlashQuotaBytes is {options.FlashQuotaBytes}; give at least 1048576 (1 MiB), or leave it out for no limit.");
        }

        (string Field, string? Value)[] tlsFiles = [("CaFile", options.CaFile), ("CertFile", options.CertFile), ("KeyFile", options.KeyFile)];
        foreach (var (field, value) in tlsFiles)
        {
            if (tls == true && string.IsNullOrWhiteSpace(value))
            {
                failures.Add($"{S}:{field} is required with an mqtts:// broker (mutual TLS: the CA, this device's certificate and key).");
            }
            else if (tls == false && !string.IsNullOrWhiteSpace(value))
            {
                failures.Add($"{S}:{field} is set but {S}:BrokerUrl is plain mqtt://; use mqtts:// or remove {field}.");
            }
        }

        if (options.MaxQueuedMessages < 1 || options.MaxChunksPerPull < 1)
        {
            failures.Add($"{S}:MaxQueuedMessages and {S}:MaxChunksPerPull must be at least 1.");
        }

        if (options.PullQuietPeriod <= TimeSpan.Zero || options.PullRetryInterval <= TimeSpan.Zero || options.StateReportInterval <= TimeSpan.Zero)
        {
            failures.Add($"{S}:PullQuietPeriod, {S}:PullRetryInterval and {S}:StateReportInterval must be positive.");
        }

        if (options.FirstBudgetWait < TimeSpan.Zero || options.FirstBudgetWait > TimeSpan.FromMinutes(10))
        {
            failures.Add($"{S}:FirstBudgetWait is {options.FirstBudgetWait}; give 0 (no wait) to 10 minutes.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <returns>True for mqtts, false for mqtt, null when the URL is unusable.</returns>
    private static bool? ValidateBrokerUrl(string url, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            failures.Add($"{S}:BrokerUrl is required (mqtt://host:1883 or mqtts://host:8883).");
            return null;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            failures.Add($"{S}:BrokerUrl '{url}' is not an absolute URL like mqtts://broker.example:8883.");
            return null;
        }

        if (uri.Scheme is not ("mqtt" or "mqtts"))
        {
            failures.Add($"{S}:BrokerUrl '{url}' has scheme '{uri.Scheme}'; use mqtt:// or mqtts://.");
            return null;
        }

        if (uri.AbsolutePath is not ("/" or "") || !string.IsNullOrEmpty(uri.Query))
        {
            failures.Add($"{S}:BrokerUrl '{url}' has a path or query; give only scheme, host and port.");
        }

        return uri.Scheme == "mqtts";
    }

    /// <summary>Fleet and device ids become MQTT topic levels and certificate names (<see cref="SyncNames"/>).</summary>
    private static void ValidateName(string field, string value, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            failures.Add($"{S}:{field} is required.");
        }
        else if (!SyncNames.IsValid(value))
        {
            failures.Add($"{S}:{field} '{value}' must be 1..{SyncNames.MaxLength} characters of A-Z a-z 0-9 . _ - (not starting with '.').");
        }
    }
}

/// <summary>
/// At start: the files the <c>Sync</c> section names must exist, so a missing certificate is a clear line in the journal
/// instead of a TLS error later.
/// </summary>
public sealed class DeviceSyncFilesValidator : IValidateOptions<DeviceSyncOptions>
{
    public ValidateOptionsResult Validate(string? name, DeviceSyncOptions options)
    {
        var failures = new List<string>();
        (string Field, string? Path)[] files =
        [
            ("CoordinatorKeyPath", options.CoordinatorKeyPath), ("CaFile", options.CaFile),
            ("CertFile", options.CertFile), ("KeyFile", options.KeyFile),
        ];
        foreach (var (field, path) in files)
        {
            if (!string.IsNullOrWhiteSpace(path) && !File.Exists(path))
            {
                failures.Add($"{DeviceSyncOptions.SectionName}:{field}: file '{Path.GetFullPath(path)}' does not exist or cannot be read.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
