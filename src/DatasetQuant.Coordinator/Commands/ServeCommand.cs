using System.CommandLine;
using DatasetQuant.Coordinator.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Coordinator.Commands;

/// <summary>
/// <c>dq-coordinator serve</c>: the long-running coordinator. Records device state, plans and publishes budgets,
/// answers repair pulls; stops on Ctrl+C or SIGTERM.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var broker = CoordinatorCommandOptions.Broker();
        var fleet = CoordinatorCommandOptions.Fleet();
        var db = CoordinatorCommandOptions.Database(mustExist: false);
        var key = CoordinatorCommandOptions.SigningKey();
        var tlsCa = CoordinatorCommandOptions.TlsCa();
        var tlsCert = CoordinatorCommandOptions.TlsCertificate();
        var tlsKey = CoordinatorCommandOptions.TlsKey();
        var clientId = new Option<string?>("--client-id") { Description = "MQTT client id (default dq-coordinator-FLEET-HOST).", HelpName = "ID" };
        var share = new Option<string?>("--share-group")
        {
            Description = "Take pulls through $share/GROUP/... so several coordinators on one store split the repairs.",
            HelpName = "GROUP",
        };
        var http = new Option<string?>("--http")
        {
            Description = "Serve a read-only fleet page, its JSON API (api/...) and Prometheus metrics (/metrics) on [HOST:]PORT. " +
                "HOST defaults to 127.0.0.1; another address shows the fleet to whoever can reach it.",
            HelpName = "[HOST:]PORT",
            Validators = { r => AddError(r, r.GetValueOrDefault<string?>() is { } value ? HttpProblem(value) : null) },
        };
        var policy = new BudgetPolicyOptions();
        var command = new Command("serve", "Run the coordinator: record device state, plan and publish budgets, answer repair pulls.")
        {
            broker, fleet, db, key, tlsCa, tlsCert, tlsKey, clientId, share, http,
        };
        foreach (var option in policy.All)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var stderr = parseResult.InvocationConfiguration.Error;
            Planning.BudgetPolicy budgetPolicy;
            try
            {
                budgetPolicy = policy.Read(parseResult);
            }
            catch (ArgumentException ex)
            {
                stderr.WriteLine($"error: {ex.Message}");
                return ExitCodes.Usage;
            }

            // The store is opened here, before the host, so that a database that cannot be used is one clear error.
            Store.SqlFleetStore store;
            try
            {
                store = await Store.FleetDatabase.OpenAsync(parseResult.GetValue(db)!, cancellationToken: cancellationToken);
            }
            catch (Store.FleetStoreException ex)
            {
                stderr.WriteLine($"error: {ex.Message}");
                return ExitCodes.Failed;
            }

            await using var _ = store;
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = false, Args = [] });
            builder.Services.AddSingleton<Store.IFleetStore>(store);
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
                o.UseUtcTimestamp = true;
            });
            builder.Services.AddCoordinator(o =>
            {
                o.BrokerUrl = parseResult.GetValue(broker)!;
                o.Fleet = parseResult.GetValue(fleet)!;
                o.Database = parseResult.GetValue(db)!;
                o.SigningKeyPath = parseResult.GetValue(key)!;
                o.TlsCaFile = parseResult.GetValue(tlsCa);
                o.TlsCertificateFile = parseResult.GetValue(tlsCert);
                o.TlsKeyFile = parseResult.GetValue(tlsKey);
                o.ClientId = parseResult.GetValue(clientId);
                o.ShareGroup = parseResult.GetValue(share);
                o.Http = parseResult.GetValue(http);
                o.Policy = budgetPolicy;
                o.DeviceBoards = [.. parseResult.GetValue(policy.DeviceBoards) ?? []];
            });

            try
            {
                using var host = builder.Build();
                var service = host.Services.GetRequiredService<CoordinatorService>();
                await host.RunAsync(cancellationToken);
                return service.ExecuteTask is { IsFaulted: true } ? ExitCodes.Failed : ExitCodes.Ok;
            }
            catch (OptionsValidationException ex)
            {
                foreach (var failure in ex.Failures)
                {
                    stderr.WriteLine($"error: {failure}");
                }

                return ExitCodes.Usage;
            }
            catch (Exception ex) when (ex is Store.FleetStoreException or InvalidOperationException)
            {
                stderr.WriteLine($"error: {ex.Message}");
                return ExitCodes.Failed;
            }
        });
        return command;
    }

    private static string? HttpProblem(string value)
    {
        try
        {
            Web.HttpListenAddress.Parse(value);
            return null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
    }

    private static void AddError(System.CommandLine.Parsing.OptionResult result, string? problem)
    {
        if (problem is not null)
        {
            result.AddError($"{result.Option.Name}: {problem}");
        }
    }
}
