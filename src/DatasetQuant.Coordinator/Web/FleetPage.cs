using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using DatasetQuant.Coordinator.Commands;
using DatasetQuant.Coordinator.Reporting;

namespace DatasetQuant.Coordinator.Web;

/// <summary>
/// The fleet page: one HTML document rendered on the server from a <see cref="FleetSnapshot"/>, with no script, so it
/// shows the same in any browser, in a terminal browser and to a test. It reloads itself every
/// <see cref="RefreshSeconds"/> seconds. Every value from devices or the store is HTML-encoded; the only style is the
/// one below, allowed by its hash in <see cref="ContentSecurityPolicy"/>.
/// </summary>
public static class FleetPage
{
    public const int RefreshSeconds = 10;

    private const string Style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d2430;background:#fbfbfd}
        h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.6em 0 .4em}
        p.meta{color:#5b6472;margin:0 0 1em}
        table{border-collapse:collapse;width:100%;background:#fff}
        th,td{padding:.3em .6em;border-bottom:1px solid #e3e6ec;text-align:left;vertical-align:top}
        th{background:#eef1f6;font-weight:600}
        td.n{text-align:right;font-variant-numeric:tabular-nums}
        .online{color:#137333;font-weight:600}.offline{color:#a50e0e;font-weight:600}.pending{color:#b06000}
        ul.tiles{display:flex;gap:1em;list-style:none;padding:0;margin:0}
        ul.tiles li{background:#fff;border:1px solid #e3e6ec;border-radius:6px;padding:.5em 1em}
        ul.tiles b{display:block;font-size:1.4em}
        progress{width:7em;vertical-align:middle}
        """;

    private static readonly HtmlEncoder Html = HtmlEncoder.Default;

    /// <summary>Lets the page's own style and nothing else: no script, no frame, no outside request.</summary>
    public static string ContentSecurityPolicy { get; } =
        $"default-src 'none'; style-src 'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(Style)))}'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static string Render(FleetSnapshot snapshot, string coordinator, string store)
    {
        var page = new StringBuilder(16 * 1024);
        var fleet = Html.Encode(snapshot.Fleet);
        page.Append(CultureInfo.InvariantCulture, $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="refresh" content="{RefreshSeconds}">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Fleet {fleet} · dq-coordinator</title>
            <style>{Style}</style></head><body>
            <h1>Fleet {fleet}</h1>
            <p class="meta">Read from {Html.Encode(store)} by {Html.Encode(coordinator)} at {Time(snapshot.TakenAt)}; reloads every {RefreshSeconds} s.
            JSON: <a href="api/fleet">api/fleet</a> · metrics: <a href="metrics">metrics</a></p>
            <ul class="tiles">
            <li id="devices-count"><b>{snapshot.Devices.Count}</b>devices</li>
            <li id="online-count"><b>{snapshot.Online}</b>online</li>
            <li id="datasets-count"><b>{snapshot.Datasets.Count}</b>datasets and generators</li>
            <li id="pending-count"><b>{snapshot.BudgetsPending}</b>budgets pending</li>
            <li id="repairs-count"><b>{snapshot.RepairTotals.Sum(t => t.Repairs)}</b>repairs served</li>
            </ul>
            """);

        page.Append("<h2>Devices</h2>\n<table id=\"devices\"><thead><tr><th>Device</th><th>Board</th><th>State</th><th>Last seen</th>" +
            "<th>Free flash</th><th>Budget desired</th><th>Budget reported</th><th>Holdings</th><th>Transfer</th></tr></thead><tbody>\n");
        foreach (var view in snapshot.Devices)
        {
            var d = view.Device;
            var desired = view.Desired is { } b ? $"{Size(b.Bytes)} v{b.Version}{(b.IsPublished ? "" : " <span class=\"pending\">(pending)</span>")}" : "–";
            var reported = d.ReportedBudgetBytes is { } r ? $"{Size(r)} v{d.ReportedBudgetVersion}{(view.BudgetApplied ? " ✓" : "")}" : "–";
            var holdings = view.Holdings.Count == 0 ? "–" : string.Join("<br>", view.Holdings.Select(h => $"{Html.Encode(h.Dataset)} v{h.ManifestVersion}: {h.Shards} shard{(h.Shards == 1 ? "" : "s")}, {Size(h.Bytes)}"));
            var transfers = view.Transfers.Count == 0 ? "–" : string.Join("<br>", view.Transfers.Select(t =>
                $"{Html.Encode(t.Dataset)} v{t.Version} <progress max=\"{t.Shards}\" value=\"{t.ShardsHeld}\"></progress> {t.ShardsHeld}/{t.Shards}"));
            page.Append(CultureInfo.InvariantCulture, $"""
                <tr id="device-{Html.Encode(d.DeviceId)}"><td>{Html.Encode(d.DeviceId)}</td><td>{Html.Encode(d.Board ?? "–")}</td>
                <td class="{(d.Online ? "online" : "offline")}">{(d.Online ? "online" : "offline")}</td>
                <td>{(d.LastSeen.ToUnixTimeMilliseconds() == 0 ? "never" : StatusCommand.Ago(snapshot.TakenAt - d.LastSeen))}</td>
                <td class="n">{(d.FreeFlashBytes is { } free ? Size(free) : "–")}</td><td>{desired}</td><td>{reported}</td><td>{holdings}</td><td>{transfers}</td></tr>

                """);
        }

        page.Append(snapshot.Devices.Count == 0 ? "<tr><td colspan=\"9\">No device has reported yet.</td></tr>\n" : "")
            .Append("</tbody></table>\n");

        page.Append("<h2>Datasets and generators</h2>\n<table id=\"datasets\"><thead><tr><th>Kind</th><th>Name</th><th>Version</th><th>Shards</th>" +
            "<th>Size</th><th>Samples</th><th>Published</th><th>Broadcast</th><th>Devices complete</th></tr></thead><tbody>\n");
        foreach (var view in snapshot.Datasets)
        {
            var ds = view.Dataset;
            page.Append(CultureInfo.InvariantCulture, $"""
                <tr id="dataset-{Html.Encode(ds.Name)}"><td>{Html.Encode(view.Kind)}</td><td>{Html.Encode(ds.Name)}</td><td>v{ds.ManifestVersion}</td>
                <td class="n">{ds.Shards.Count}</td><td class="n">{Size(ds.TotalBytes)}</td><td class="n">{ds.Shards.Sum(s => s.SampleCount)}</td>
                <td>{Time(ds.PublishedAt)}</td><td>{(view.Broadcast is { } bc ? $"{bc.Chunks} chunks, {Size(bc.BytesPublished)}" : "–")}</td>
                <td class="n">{view.DevicesComplete} of {snapshot.Devices.Count}</td></tr>

                """);
        }

        page.Append(snapshot.Datasets.Count == 0 ? "<tr><td colspan=\"9\">Nothing published yet.</td></tr>\n" : "")
            .Append("</tbody></table>\n");

        page.Append("<h2>Recent repairs</h2>\n<table id=\"repairs\"><thead><tr><th>Served</th><th>Device</th><th>Dataset</th>" +
            "<th>Chunks</th><th>Bytes</th></tr></thead><tbody>\n");
        foreach (var repair in snapshot.RecentRepairs)
        {
            page.Append(CultureInfo.InvariantCulture, $"""
                <tr><td>{Time(repair.ServedAt)}</td><td>{Html.Encode(repair.DeviceId)}</td><td>{Html.Encode(repair.Dataset)} v{repair.ManifestVersion}</td>
                <td class="n">{repair.Chunks}</td><td class="n">{Size(repair.Bytes)}</td></tr>

                """);
        }

        page.Append(snapshot.RecentRepairs.Count == 0 ? "<tr><td colspan=\"5\">No repair served yet.</td></tr>\n" : "")
            .Append("</tbody></table>\n</body></html>\n");
        return page.ToString();
    }

    private static string Size(long bytes) => Html.Encode(ByteSize.Format(bytes));

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
