using System.CommandLine;
using System.Globalization;
using DatasetQuant.Coordinator.Reporting;
using DatasetQuant.Coordinator.Store;

namespace DatasetQuant.Coordinator.Commands;

/// <summary><c>dq-coordinator status --db PATH|URL</c>: devices, their budgets and what each holds, read from the store.</summary>
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
                await using var store = await FleetDatabase.OpenAsync(parseResult.GetValue(db)!, createIfMissing: false, cancellationToken);
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
        var fleets = fleet is not null
            ? [fleet]
            : (await store.ListDevicesAsync(null, cancellationToken)).Select(d => d.Fleet)
                .Concat((await store.ListDatasetsAsync(null, cancellationToken)).Select(d => d.Fleet))
                .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var snapshots = new List<FleetSnapshot>(fleets.Count);
        foreach (var f in fleets)
        {
            snapshots.Add(await FleetSnapshot.ReadAsync(store, f, now, recentRepairs: 1, cancellationToken));
        }

        return Render(snapshots, now);
    }

    private static string Render(IReadOnlyList<FleetSnapshot> snapshots, DateTimeOffset now)
    {
        var output = new System.Text.StringBuilder();
        var deviceTable = new TextTable("FLEET", "DEVICE", "BOARD", "STATE", "LAST SEEN", "FREE FLASH", "HELD", "SHARDS", "DESIRED", "REPORTED");
        var holdings = new TextTable("FLEET", "DEVICE", "DATASET", "VERSION", "SHARDS", "BYTES");
        var datasetTable = new TextTable("FLEET", "KIND", "DATASET", "VERSION", "SHARDS", "BYTES", "PUBLISHED", "BROADCAST", "SHARD FOLDER");
        var repairs = new TextTable("FLEET", "DEVICE", "REPAIRS", "CHUNKS", "BYTES");
        foreach (var snapshot in snapshots)
        {
            foreach (var view in snapshot.Devices)
            {
                var device = view.Device;
                var desired = view.Desired;
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
                foreach (var held in view.Holdings)
                {
                    holdings.Add(device.Fleet, device.DeviceId, held.Dataset, "v" + held.ManifestVersion.ToString(CultureInfo.InvariantCulture),
                        held.Shards.ToString(CultureInfo.InvariantCulture), ByteSize.Format(held.Bytes));
                }
            }

            foreach (var view in snapshot.Datasets)
            {
                var dataset = view.Dataset;
                datasetTable.Add(dataset.Fleet, view.Kind, dataset.Name, "v" + dataset.ManifestVersion.ToString(CultureInfo.InvariantCulture),
                    dataset.Shards.Count.ToString(CultureInfo.InvariantCulture), ByteSize.Format(dataset.TotalBytes),
                    dataset.PublishedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                    view.Broadcast is { } broadcast ? $"{broadcast.Chunks} chunks, {ByteSize.Format(broadcast.BytesPublished)}" : "-",
                    dataset.ShardDirectory);
            }

            foreach (var total in snapshot.RepairTotals)
            {
                repairs.Add(snapshot.Fleet, total.DeviceId, total.Repairs.ToString(CultureInfo.InvariantCulture),
                    total.Chunks.ToString(CultureInfo.InvariantCulture), ByteSize.Format(total.Bytes));
            }
        }

        var devices = snapshots.Sum(s => s.Devices.Count);
        output.AppendLine($"Devices ({devices}, {snapshots.Sum(s => s.Online)} online)");
        output.Append(deviceTable.RowCount == 0 ? "  none reported yet\n" : deviceTable.ToString());
        output.AppendLine();
        output.AppendLine($"Datasets ({snapshots.Sum(s => s.Datasets.Count)})");
        output.Append(datasetTable.RowCount == 0 ? "  none published yet\n" : datasetTable.ToString());
        output.AppendLine();
        output.AppendLine("Holdings");
        output.Append(holdings.RowCount == 0 ? "  no device holds a shard yet\n" : holdings.ToString());
        if (repairs.RowCount > 0)
        {
            output.AppendLine();
            output.AppendLine("Repairs served");
            output.Append(repairs.ToString());
        }

        return output.ToString();
    }

    /// <summary>How long ago, as people say it ("5s ago", "3h ago").</summary>
    public static string Ago(TimeSpan age) => age.TotalSeconds switch
    {
        < 0 => "just now",
        < 90 => $"{age.TotalSeconds:0}s ago",
        < 5400 => $"{age.TotalMinutes:0}m ago",
        < 172800 => $"{age.TotalHours:0}h ago",
        _ => $"{age.TotalDays:0}d ago",
    };
}
