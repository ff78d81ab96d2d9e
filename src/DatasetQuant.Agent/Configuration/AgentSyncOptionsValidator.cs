using Microsoft.Extensions.Options;

namespace DatasetQuant.Agent.Configuration;

/// <summary>Checks the shape of the <c>Sync</c> section; every message names the field as it is written in a config.</summary>
public sealed class AgentSyncOptionsValidator : IValidateOptions<AgentSyncOptions>
{
    private const string S = AgentSyncOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, AgentSyncOptions options)
    {
        var failures = new List<string>();
        var tls = ValidateBrokerUrl(options.BrokerUrl, failures);
        ValidateTopicSegment("Fleet", options.Fleet, failures);
        ValidateTopicSegment("DeviceId", options.DeviceId, failures);

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

    /// <summary>Fleet and device ids become MQTT topic levels and certificate names: no wildcards, no separators.</summary>
    private static void ValidateTopicSegment(string field, string value, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            failures.Add($"{S}:{field} is required.");
            return;
        }

        if (value.Length > 64 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') || !char.IsAsciiLetterOrDigit(value[0]))
        {
            failures.Add($"{S}:{field} '{value}' must be 1-64 ASCII letters, digits, '-', '_' or '.', starting with a letter or digit.");
        }
    }
}

/// <summary>
/// At start (not when a config file is merely checked): the files the <c>Sync</c> section names must exist, so a
/// missing certificate is a clear line in the journal instead of a TLS error later.
/// </summary>
public sealed class AgentSyncFilesValidator : IValidateOptions<AgentSyncOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentSyncOptions options)
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
                failures.Add($"{AgentSyncOptions.SectionName}:{field}: file '{Path.GetFullPath(path)}' does not exist or cannot be read.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
