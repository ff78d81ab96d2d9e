using System.Text.Json;
using DatasetQuant.Coordinator.Hosting;
using DatasetQuant.Coordinator.Reporting;
using DatasetQuant.Coordinator.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Coordinator.Web;

/// <summary>
/// <c>serve --http</c>: Kestrel on one address serving the fleet page (<c>/</c>), its JSON API (<c>/api/…</c>) and
/// Prometheus metrics (<c>/metrics</c>). Everything is read-only: GET and HEAD only, nothing that changes the fleet
/// (that takes the signing key, the broker's credentials or the database's). Bound to loopback unless an address is
/// given; then only requests naming that address (or localhost) as Host are served, which keeps a web page elsewhere
/// from reading the fleet through a browser on this machine by DNS rebinding.
/// </summary>
public sealed class FleetWebService(
    IFleetStore store, IOptions<CoordinatorOptions> options, CoordinatorCounters counters, CoordinatorService coordinator,
    TimeProvider time, ILoggerFactory loggerFactory) : IHostedService, IAsyncDisposable
{
    private const int RecentRepairs = 30;
    private readonly ILogger _logger = loggerFactory.CreateLogger<FleetWebService>();
    private WebApplication? _app;

    /// <summary>The address the page is served on, once started (the actual port when 0 was asked for).</summary>
    public string? Url { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (o.Http is null)
        {
            return;
        }

        var listen = HttpListenAddress.Parse(o.Http);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], EnvironmentName = Environments.Production });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton<IHostLifetime, OuterHostLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 0;
            kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            kestrel.Listen(listen.Address, listen.Port);
        });
        if (listen.IsLoopback)
        {
            builder.Services.AddHostFiltering(f => f.AllowedHosts = ["localhost", "127.0.0.1", "[::1]"]);
        }

        var app = builder.Build();
        if (listen.IsLoopback)
        {
            app.UseHostFiltering();
        }

        var coordinatorId = o.EffectiveClientId;
        var metrics = new FleetMetrics(store, o.Fleet, coordinatorId, counters, () => coordinator.RepairQueueLength, time);
        Map(app, o.Fleet, coordinatorId, metrics);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException ex)
        {
            await app.DisposeAsync();
            throw new InvalidOperationException($"--http {o.Http}: cannot listen on {listen.Url}: {ex.Message}", ex);
        }

        _app = app;
        Url = app.Urls.FirstOrDefault() is { } bound ? bound.TrimEnd('/') + "/" : listen.Url;
        _logger.LogInformation("Fleet page at {Url} (JSON under api/, Prometheus metrics at metrics)", Url);
        if (!listen.IsLoopback)
        {
            _logger.LogWarning("The fleet page listens on {Address}, not loopback: anyone who can reach it can read the fleet's state", listen.Address);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is { } app)
        {
            await app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _app, null) is { } app)
        {
            await app.DisposeAsync();
        }
    }

    private void Map(WebApplication app, string fleet, string coordinatorId, FleetMetrics metrics)
    {
        app.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = FleetPage.ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.CacheControl = "no-store";
            try
            {
                await next(context);
            }
            catch (FleetStoreException ex) when (!context.Response.HasStarted)
            {
                _logger.LogError("{Path}: {Error}", context.Request.Path, ex.Message);
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                await context.Response.WriteAsync($"The fleet store cannot be read: {ex.Message}\n", context.RequestAborted);
            }
        });

        Task<FleetSnapshot> Snapshot(HttpContext context) => FleetSnapshot.ReadAsync(store, fleet, time.GetUtcNow(), RecentRepairs, context.RequestAborted);

        app.MapGet("/", async context =>
        {
            var html = FleetPage.Render(await Snapshot(context), coordinatorId, Describe());
            context.Response.ContentType = "text/html; charset=utf-8";
            await context.Response.WriteAsync(html, context.RequestAborted);
        });
        app.MapGet("/api/fleet", async context =>
            await WriteJsonAsync(context, FleetJson.From(await Snapshot(context), coordinatorId, Describe()), FleetJsonContext.Default.Fleet));
        app.MapGet("/api/devices", async context =>
            await WriteJsonAsync(context, (await Snapshot(context)).Devices.Select(FleetJson.From).ToList(), FleetJsonContext.Default.IReadOnlyListDevice));
        app.MapGet("/api/devices/{id}", async context =>
        {
            var id = (string)context.Request.RouteValues["id"]!;
            if ((await Snapshot(context)).Devices.FirstOrDefault(d => d.Device.DeviceId == id) is { } view)
            {
                await WriteJsonAsync(context, FleetJson.From(view), FleetJsonContext.Default.Device);
            }
            else
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                await context.Response.WriteAsync($"No device '{id}' in fleet {fleet}.\n", context.RequestAborted);
            }
        });
        app.MapGet("/api/datasets", async context =>
            await WriteJsonAsync(context, (await Snapshot(context)).Datasets.Select(FleetJson.From).ToList(), FleetJsonContext.Default.IReadOnlyListDataset));
        app.MapGet("/api/repairs", async context =>
            await WriteJsonAsync(context, (await Snapshot(context)).RecentRepairs.Select(FleetJson.From).ToList(), FleetJsonContext.Default.IReadOnlyListRepair));
        app.MapGet("/metrics", async context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await metrics.WriteAsync(context.Response.Body, context.RequestAborted);
        });
    }

    private string Describe() => store is SqlFleetStore sql ? sql.Location : store.GetType().Name;

    private static Task WriteJsonAsync<T>(HttpContext context, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(context.Response.Body, value, type, context.RequestAborted);
    }

    /// <summary>The coordinator's host owns Ctrl+C and SIGTERM; the page's web host starts and stops with it.</summary>
    private sealed class OuterHostLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
