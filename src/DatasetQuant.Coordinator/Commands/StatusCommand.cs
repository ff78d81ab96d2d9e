using System.CommandLine;
using System.Globalization;
using DatasetQuant.Coordinator.Store;

namespace DatasetQuant.Coordinator.Commands;

/// <summary><c>dq-coordinator status --db PATH</c>: devices, their budgets and what each holds, read from the store.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var db = CoordinatorCommandOptions.Database(mustExist: true);
        var fleet = new Option<string?>("--fleet") { Description = "Show only this fleet (default: every fleet in the database).", HelpName = "NAME" };
        var command = new Command("status", "Show the devices, their desired and reported budgets, the datasets and what each device holds.")
        {
            db,
            fleet,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                await using var store = SqliteFleetStore.Open(parseResult.GetValue(db)!, createIfMissing: false);
                var report = await RenderAsync(store, parseResult.GetValue(fleet), DateTimeOffset.UtcNow, cancellationToken);
                parseResult.InvocationConfiguration.Output.Write(report);
                return ExitCodes.Ok;
            }
            catch (FleetStoreException ex)
            {
                parseResult.InvocationConfiguration.Error.WriteLine($"error: {ex.Message}");
                return ExitCodes.Failed;
            }
        });
        return command;
    }

    public static async Task<string> RenderAsync(IFleetStore store, string? fleet, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var devices = await store.ListDevicesAsync(fleet, cancellationToken);
        var datasets = await store.ListDatasetsAsync(fleet, cancellationToken);
        var output = new System.Text.StringBuilder();

        var deviceTable = new TextTable("FLEET", "DEVICE", "BOARD", "STATE", "LAST SEEN", "FREE FLASH", "HELD", "SHARDS", "DESIRED", "REPORTED");
        var holdings = new TextTable("FLEET", "DEVICE", "DATASET", "VERSION", "SHARDS", "BYTES");
        foreach (var device in devices)
        {
            var desired = await store.GetDesiredBudgetAsync(device.Fleet, device.DeviceId, cancellationToken);
            deviceTable.Add(
                device.Fleet,
                device.DeviceId,
                device.Board ?? "-",
                device.Online ? "online" : "offline",
                device.LastSeen.ToUnixTimeMilliseconds() == 0 ? "never" : Ago(now - device.LastSeen),
                device.FreeFlashBytes is { } free ? ByteSize.Format(free) : "-",
                ByteSize.Format(device.BytesHeld),
                device.ShardsHeld.ToString(CultureInfo.InvariantCulture),
                desired is null ? "-" : $"{ByteSize.Format(desired.Bytes)} v{desired.Version}{(desired.IsPublished ? "" : " (pending)")}",
                device.ReportedBudgetBytes is { } reported ? $"{ByteSize.Format(reported)} v{device.ReportedBudgetVersion}" : "-");

            var held = await store.ListHeldShardsAsync(device.Fleet, device.DeviceId, cancellationToken);
            foreach (var group in held.GroupBy(h => (h.Dataset, h.ManifestVersion)))
            {
                holdings.Add(device.Fleet, device.DeviceId, group.Key.Dataset, "v" + group.Key.ManifestVersion.ToString(CultureInfo.InvariantCulture),
                    group.Count().ToString(CultureInfo.InvariantCulture), ByteSize.Format(group.Sum(h => h.Bytes)));
            }
        }

        output.AppendLine($"Devices ({devices.Count}, {devices.Count(d => d.Online)} online)");
        output.Append(deviceTable.RowCount == 0 ? "  none reported yet\n" : deviceTable.ToString());
        output.AppendLine();

        var datasetTable = new TextTable("FLEET", "DATASET", "VERSION", "SHARDS", "BYTES", "PUBLISHED", "BROADCAST", "SHARD FOLDER");
        foreach (var dataset in datasets)
        {
            var broadcast = (await store.ListBroadcastsAsync(dataset.Fleet, dataset.Name, cancellationToken))
                .LastOrDefault(b => b.ManifestVersion == dataset.ManifestVersion);
            datasetTable.Add(dataset.Fleet, dataset.Name, "v" + dataset.ManifestVersion.ToString(CultureInfo.InvariantCulture),
                dataset.Shards.Count.ToString(CultureInfo.InvariantCulture), ByteSize.Format(dataset.TotalBytes),
                dataset.PublishedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                broadcast is null ? "-" : $"{broadcast.Chunks} chunks, {ByteSize.Format(broadcast.BytesPublished)}",
                dataset.ShardDirectory);
        }

        output.AppendLine($"Datasets ({datasets.Count})");
        output.Append(datasetTable.RowCount == 0 ? "  none published yet\n" : datasetTable.ToString());
        output.AppendLine();
        output.AppendLine("Holdings");
        output.Append(holdings.RowCount == 0 ? "  no device holds a shard yet\n" : holdings.ToString());

        var fleets = fleet is not null ? [fleet] : devices.Select(d => d.Fleet).Distinct().ToList();
        var repairs = new TextTable("FLEET", "DEVICE", "REPAIRS", "CHUNKS", "BYTES");
        foreach (var f in fleets)
        {
            foreach (var total in await store.ListRepairTotalsAsync(f, cancellationToken))
            {
                repairs.Add(f, total.DeviceId, total.Repairs.ToString(CultureInfo.InvariantCulture),
                    total.Chunks.ToString(CultureInfo.InvariantCulture), ByteSize.Format(total.Bytes));
            }
        }

        if (repairs.RowCount > 0)
        {
            output.AppendLine();
            output.AppendLine("Repairs served");
            output.Append(repairs.ToString());
        }

        return output.ToString();
    }

    private static string Ago(TimeSpan age) => age.TotalSeconds switch
    {
        < 0 => "just now",
        < 90 => $"{age.TotalSeconds:0}s ago",
        < 5400 => $"{age.TotalMinutes:0}m ago",
        < 172800 => $"{age.TotalHours:0}h ago",
        _ => $"{age.TotalDays:0}d ago",
    };
}
