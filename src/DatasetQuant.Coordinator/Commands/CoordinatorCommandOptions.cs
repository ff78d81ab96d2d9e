using System.CommandLine;

namespace DatasetQuant.Coordinator.Commands;

/// <summary>The options several commands share, each with its validation, so every command words errors alike.</summary>
internal static class CoordinatorCommandOptions
{
    public static Option<string> Broker() => new("--broker")
    {
        Description = "The MQTT 5 broker, mqtt://HOST:PORT or mqtts://HOST:PORT.",
        HelpName = "URL",
        Required = true,
        Validators = { result => Check(result, BrokerUrl.Problem(result.GetValueOrDefault<string>())) },

    };

    public static Option<string> Fleet() => new("--fleet")
    {
        Description = "The fleet name: the topic level under dq/v1/ (letters, digits, '-', '_', '.').",
        HelpName = "NAME",
        Required = true,
        Validators = { result => Check(result, NameProblem(result.GetValueOrDefault<string>(), "fleet")) },
    };

    public static Option<string> Database(bool mustExist) => new("--db")
    {
        Description = (mustExist ? "The fleet database: a SQLite file" : "The fleet database: a SQLite file (created when missing)") +
            ", or postgres://USER@HOST:PORT/DB for a PostgreSQL database several coordinators share " +
            "(password from PGPASSWORD or ~/.pgpass; the schema is created on first use).",
        HelpName = "PATH|URL",
        Required = true,
        Validators = { result => Check(result, Store.FleetDatabase.Problem(result.GetValueOrDefault<string>(), mustExist)) },
    };

    public static Option<string> SigningKey() => new("--key")
    {
        Description = "The coordinator's ECDSA P-256 private key (PEM, from 'dq-coordinator keygen').",
        HelpName = "KEY.pem",
        Required = true,
        Validators = { result => Check(result, ExistingFileProblem(result.GetValueOrDefault<string>(), "key file")) },
    };

    public static Option<string?> TlsCa() => new("--tls-ca")
    {
        Description = "CA certificate (PEM) that signed the broker's certificate; needed with mqtts://.",
        HelpName = "CA.pem",
        Validators = { result => Check(result, ExistingFileProblem(result.GetValueOrDefault<string?>(), "CA file")) },
    };

    public static Option<string?> TlsCertificate() => new("--tls-cert")
    {
        Description = "Client certificate (PEM) presented to the broker for mutual TLS.",
        HelpName = "CERT.pem",
        Validators = { result => Check(result, ExistingFileProblem(result.GetValueOrDefault<string?>(), "certificate file")) },
    };

    public static Option<string?> TlsKey() => new("--tls-key")
    {
        Description = "Private key (PEM) of --tls-cert.",
        HelpName = "KEY.pem",
        Validators = { result => Check(result, ExistingFileProblem(result.GetValueOrDefault<string?>(), "TLS key file")) },
    };

    public static string? NameProblem(string? value, string what)
    {
        if (string.IsNullOrEmpty(value))
        {
            return $"the {what} name is empty.";
        }

        if (value.Length > 64)
        {
            return $"the {what} name '{value}' is longer than 64 characters.";
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return $"the {what} name '{value}' contains '{c}'; use letters, digits, '-', '_' and '.'.";
            }
        }

        return null;
    }

    private static string? ExistingFileProblem(string? path, string what) =>
        path is null ? null : File.Exists(path) ? null : $"the {what} '{path}' does not exist.";

    private static void Check(System.CommandLine.Parsing.OptionResult result, string? problem)
    {
        if (problem is not null)
        {
            result.AddError($"{result.Option.Name}: {problem}");
        }
    }
}
