namespace DatasetQuant.Agent.Configuration;

/// <summary>
/// dq-agent's command line: a few short switches for the values set per device, and <c>--Section:Key value</c> for
/// any other setting. Unknown switches are refused, so a typo is an error rather than a silently ignored flag.
/// </summary>
public static class AgentCommandLine
{
    public const string DeviceConfigSwitch = "--device-config";

    /// <summary>Short switches and the configuration keys they set (the sync contract fixes the first five).</summary>
    public static IReadOnlyDictionary<string, string> SwitchMappings { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--broker"] = "Sync:BrokerUrl",
        ["--fleet"] = "Sync:Fleet",
        ["--device-id"] = "Sync:DeviceId",
        ["--data-dir"] = "Sync:DataDirectory",
        ["--coordinator-key"] = "Sync:CoordinatorKeyPath",
        [DeviceConfigSwitch] = "DeviceConfig",
    };

    public const string Usage = """
        Usage: dq-agent [--device-config FILE] [--broker URL] [--fleet NAME] [--device-id ID] [--data-dir DIR]
                        [--coordinator-key PEM] [--Section:Key VALUE ...]
               dq-agent --version
        Settings come from appsettings.json beside the binary, then the device config, then DQ_ environment
        variables (DQ_Sync__DeviceId=pi4-07), then the command line.
        """;

    /// <summary>Returns an error naming the first argument that is not a known switch with a value, or null.</summary>
    public static string? FindError(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals > 0 ? arg[..equals] : arg;
            var known = SwitchMappings.ContainsKey(name) || (name.StartsWith("--", StringComparison.Ordinal) && name.Contains(':', StringComparison.Ordinal));
            if (!known)
            {
                return $"unknown option '{arg}'";
            }

            if (equals < 0)
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    return $"option '{name}' needs a value";
                }

                i++;
            }
        }

        return null;
    }

    /// <summary>The value of <c>--device-config</c> (either spelling), or null.</summary>
    public static string? DeviceConfigPath(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == DeviceConfigSwitch && i + 1 < args.Count)
            {
                return args[i + 1];
            }

            if (args[i].StartsWith(DeviceConfigSwitch + "=", StringComparison.Ordinal))
            {
                return args[i][(DeviceConfigSwitch.Length + 1)..];
            }
        }

        return null;
    }
}
