using Microsoft.Extensions.Configuration;

namespace DatasetQuant.Agent.Configuration;

/// <summary>A configuration source could not be read; the message names the file and what is wrong with it.</summary>
public sealed class AgentConfigurationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Stacks dq-agent's configuration, later sources winning: appsettings.json beside the binary, the device config,
/// DQ_ environment variables, the command line.
/// </summary>
public static class AgentConfigurationSources
{
    public const string EnvironmentPrefix = "DQ_";

    /// <summary>
    /// Adds the sources. A <see cref="ConfigurationManager"/> reads each source as it is added, so a malformed file
    /// fails here with <see cref="AgentConfigurationException"/> naming the file and the JSON error.
    /// </summary>
    public static void Add(IConfigurationBuilder configuration, string[] args, string baseDirectory)
    {
        try
        {
            AddSources(configuration, args, baseDirectory);
        }
        catch (InvalidDataException ex)
        {
            throw new AgentConfigurationException(MessageChain(ex), ex);
        }
        catch (FormatException ex)
        {
            throw new AgentConfigurationException(MessageChain(ex), ex);
        }
    }

    private static string MessageChain(Exception ex)
    {
        var messages = new List<string>();
        for (var e = ex; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
        }

        return string.Join(" ", messages);
    }

    private static void AddSources(IConfigurationBuilder configuration, string[] args, string baseDirectory)
    {
        configuration.AddJsonFile(Path.Combine(baseDirectory, "appsettings.json"), optional: true, reloadOnChange: false);

        var deviceConfig = AgentCommandLine.DeviceConfigPath(args) ?? Environment.GetEnvironmentVariable(EnvironmentPrefix + "DeviceConfig");
        if (!string.IsNullOrEmpty(deviceConfig))
        {
            var full = Path.GetFullPath(deviceConfig);
            if (!File.Exists(full))
            {
                throw new AgentConfigurationException($"device config '{full}' does not exist");
            }

            configuration.AddJsonFile(full, optional: false, reloadOnChange: false);
        }

        configuration.AddEnvironmentVariables(EnvironmentPrefix);
        configuration.AddCommandLine(args, new Dictionary<string, string>(AgentCommandLine.SwitchMappings));
    }
}
