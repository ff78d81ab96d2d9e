using System.CommandLine;
using System.Globalization;
using DatasetQuant.Coordinator.Hosting;
using DatasetQuant.Coordinator.Publishing;
using DatasetQuant.Coordinator.Store;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Sync.Security;
using DatasetQuant.Sync.Shards;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Coordinator.Commands;

/// <summary>
/// <c>dq-coordinator publish</c>: signs a folder of shards as the next version of a dataset, publishes the manifest
/// retained and broadcasts every chunk to the fleet; returns when the broker has acknowledged all of it. A folder written
/// with <c>dq quantize --codes embedded</c> or <c>--codes planes</c> is published as layers (protocol version 6 by default,
/// with the copies at the fleet's budgets served whole when given the fleet's database), which devices pull.
/// </summary>
internal static class PublishCommand
{
    public static Command Create()
    {
        var broker = CoordinatorCommandOptions.Broker();
        var fleet = CoordinatorCommandOptions.Fleet();
        var key = CoordinatorCommandOptions.SigningKey();
        var tlsCa = CoordinatorCommandOptions.TlsCa();
        var tlsCert = CoordinatorCommandOptions.TlsCertificate();
        var tlsKey = CoordinatorCommandOptions.TlsKey();
        var dataset = new Option<string>("--dataset")
        {
            Description = "The dataset's name (a topic level: letters, digits, '-', '_', '.').",
            HelpName = "NAME",
            Required = true,
            Validators = { r => AddError(r, CoordinatorCommandOptions.NameProblem(r.GetValueOrDefault<string>(), "dataset")) },
        };
        var shards = new Option<string?>("--shards")
        {
            Description = "Folder of .dqs shard files; each becomes a shard of the manifest, in name order. A folder written with " +
                          "'dq quantize --codes embedded' or '--codes planes' (its .dqo order beside the shards) is cut into layers in DIR/layers/vN (N the " +
                          "version) and published as layers: each device pulls only the layers its budget keeps. With --db, layers also end at the fleet's " +
                          "budgets and the copy a device holds there is served whole (protocol version 6, see --protocol).",
            HelpName = "DIR",
            Validators = { r => AddError(r, Directory.Exists(r.GetValueOrDefault<string?>()) ? null : $"the folder '{r.GetValueOrDefault<string?>()}' does not exist.") },
        };
        var generator = new Option<string?>("--generator")
        {
            Description = "A DiM generator (G.onnx with its G.json manifest beside it) to publish instead of shards; devices fine-tune with its samples.",
            HelpName = "G.onnx",
            Validators = { r => AddError(r, File.Exists(r.GetValueOrDefault<string?>()) ? null : $"the file '{r.GetValueOrDefault<string?>()}' does not exist.") },
        };
        var db = new Option<string?>("--db")
        {
            Description = "Record the dataset in this fleet database (SQLite file or postgres://USER@HOST:PORT/DB), so 'serve' on it answers repairs (recommended).",
            HelpName = "PATH|URL",
            Validators = { r => AddError(r, r.GetValueOrDefault<string?>() is { } d ? FleetDatabase.Problem(d, mustExist: false) : null) },
        };
        var version = new Option<long?>("--version")
        {
            Description = "Manifest version (default: one above what the database and the broker's retained manifest hold).",
            HelpName = "N",
            Validators = { r => AddError(r, r.GetValueOrDefault<long?>() is <= 0 ? "--version must be at least 1." : null) },
        };
        var protocol = new Option<int?>("--protocol")
        {
            Description = "Protocol version of a layered publish (default: 6, the newest); devices that know only older versions refuse it and " +
                          "keep what they hold. 6: either code, held sizes counting held increments version 4 (each sample's layer gaps Rice-coded: " +
                          "40-90 % of version 3's bytes), a planes set's layers of version 5 (their entries behind a directory of Rice codes). 5: a set " +
                          "of range-coded planes (dq quantize --codes planes) with layers of version 4, as 4 otherwise. 4: embedded codes, held sizes " +
                          "counting held increments version 3 (about a bit per sample less than in 3), and with --db the copy a device holds " +
                          "at each of the fleet's budgets (at most 32, 4x the dataset's size in all) is served whole instead of its layers. 3: the " +
                          "same with version 2 held increments, for devices of protocol version 3. 2: layers only.",
            HelpName = "2|3|4|5|6",
            Validators = { r => AddError(r, r.GetValueOrDefault<int?>() is null or (>= DatasetManifest.LayersFormat and <= DatasetManifest.LatestFormat) ? null : $"--protocol must be {DatasetManifest.LayersFormat} to {DatasetManifest.LatestFormat}.") },
        };
        var command = new Command("publish", "Publish a folder of shards, or a generator, to the whole fleet: signed manifest (retained), then every chunk.")
        {
            broker, fleet, dataset, shards, generator, key, db, version, protocol, tlsCa, tlsCert, tlsKey,
        };

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var stdout = parseResult.InvocationConfiguration.Output;
            var stderr = parseResult.InvocationConfiguration.Error;
            using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
            var fleetName = parseResult.GetValue(fleet)!;
            var dbPath = parseResult.GetValue(db);
            var generatorPath = parseResult.GetValue(generator);
            if ((parseResult.GetValue(shards) is null) == (generatorPath is null))
            {
                stderr.WriteLine("error: give exactly one of --shards DIR and --generator G.onnx.");
                return ExitCodes.Usage;
            }

            try
            {
                // Before anything is signed or sent: a generator that cannot run is refused here, not on every device.
                if (generatorPath is not null)
                {
                    stdout.WriteLine(GeneratorCheck.Describe(generatorPath));
                }

                using var signer = ManifestSigner.FromPemFile(parseResult.GetValue(key)!);
                await using var store = dbPath is null ? null : await FleetDatabase.OpenAsync(dbPath, cancellationToken: cancellationToken);
                var options = CoordinatorConnection.CreateOptions(
                    parseResult.GetValue(broker)!, $"dq-coordinator-publish-{fleetName}-{Environment.ProcessId}",
                    parseResult.GetValue(tlsCa), parseResult.GetValue(tlsCert), parseResult.GetValue(tlsKey));
                await using var connection = await MqttConnection.ConnectAsync(options, loggerFactory.CreateLogger<MqttConnection>(), cancellationToken);
                var push = new DatasetPush(connection, new SyncTopics(fleetName), signer, store, new DqsShardDescriber(), TimeProvider.System, loggerFactory)
                {
                    LayersFormat = parseResult.GetValue(protocol),
                };
                var result = generatorPath is null
                    ? await push.RunAsync(parseResult.GetValue(dataset)!, parseResult.GetValue(shards)!, parseResult.GetValue(version), cancellationToken)
                    : await push.RunGeneratorAsync(parseResult.GetValue(dataset)!, generatorPath, parseResult.GetValue(version), cancellationToken);
                var seconds = Math.Max(result.Elapsed.TotalSeconds, 1e-6);
                stdout.WriteLine(result.Layered ? string.Create(CultureInfo.InvariantCulture,
                    $"published {result.Dataset} v{result.Version} (protocol version {result.Format}): {result.Shards} layers of {ByteSize.Format(result.ShardBytes - result.PrefixBytes)} (also ending at {result.BudgetCuts} device budget{(result.BudgetCuts == 1 ? "" : "s")}) and {result.Prefixes} prefix{(result.Prefixes == 1 ? "" : "es")} served whole ({ByteSize.Format(result.PrefixBytes)}); nothing broadcast: each device pulls what its budget keeps from a serving coordinator") : string.Create(CultureInfo.InvariantCulture,
                    $"published {result.Dataset} v{result.Version}: {result.Shards} {(generatorPath is null ? "shards" : "generator files")}, {ByteSize.Format(result.ShardBytes)}, " +
                    $"{result.Chunks} chunks ({ByteSize.Format(result.BytesPublished)} on the wire) in {seconds:F2} s, {result.ShardBytes / seconds / 1e6:F1} MB/s"));
                stdout.WriteLine(result.Recorded
                    ? $"recorded in {store!.Location}: 'serve --db' on it answers repairs"
                    : result.Layered
                        ? "not recorded in a database (no --db): no coordinator can serve these layers, so no device will receive them"
                        : "not recorded in a database (no --db): no coordinator can answer repairs for this version");
                return ExitCodes.Ok;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                stderr.WriteLine("interrupted: the broadcast is incomplete; devices will pull what they miss once a coordinator serves it.");
                return ExitCodes.Interrupted;
            }
            catch (Exception ex) when (ex is SigningKeyException or FleetStoreException or MqttException or DatasetPushException
                                           or DatasetQuant.Onnx.Generators.GeneratorManifestException or DatasetQuant.Onnx.OnnxRuntimeException
                                           or DatasetQuant.Onnx.OnnxFormatException
                                           or IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException)
            {
                stderr.WriteLine($"error: {ex.Message}");
                return ExitCodes.Failed;
            }
        });
        return command;
    }

    private static void AddError(System.CommandLine.Parsing.OptionResult result, string? problem)
    {
        if (problem is not null)
        {
            result.AddError($"{result.Option.Name}: {problem}");
        }
    }
}
