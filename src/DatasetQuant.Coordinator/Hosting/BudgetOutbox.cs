using DatasetQuant.Coordinator.Store;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Coordinator;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Coordinator.Hosting;

/// <summary>
/// Publishes the desired budgets the store holds as not yet published, then marks them published. Each publish runs
/// under a claim in the store (<see cref="IFleetStore.ClaimBudgetPublishAsync"/>), so of several coordinators sharing
/// the store one publishes each budget, with the version current under the claim: the retained budget of a device only
/// ever moves up, and the fleet is not sent every decision once per coordinator. A crash between publishing and
/// marking publishes the same version again once the claim has expired, which devices ignore; nothing is lost.
/// </summary>
public sealed class BudgetOutbox(
    IFleetStore store, BudgetPublisher publisher, string fleet, string owner, TimeProvider time, CoordinatorCounters counters, ILogger<BudgetOutbox> logger)
{
    /// <summary>
    /// How long a claim holds: far above one publish (milliseconds), so a live coordinator never loses it midway, and
    /// short enough that a budget whose coordinator died goes out on the next housekeeping tick after it. Coordinator
    /// clocks must agree to well within this (NTP does).
    /// </summary>
    public static readonly TimeSpan ClaimLease = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a publish already started may still wait for its acknowledgement once the coordinator is stopping. A
    /// stop that cut the wait would leave a budget the broker may have passed on recorded as pending; the
    /// acknowledgement takes milliseconds on a live broker.
    /// </summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    /// <summary>A newer version decided while one was being published goes out in the same call, up to this many times.</summary>
    private const int MaxRounds = 4;

    /// <summary>Publishes every pending budget; returns how many went out. A broker error leaves the rest pending.</summary>
    public async Task<int> FlushAsync(CancellationToken cancellationToken)
    {
        var sent = 0;
        foreach (var budget in await store.ListUnpublishedBudgetsAsync(fleet, cancellationToken))
        {
            if (await PublishAsync(budget.DeviceId, republish: false, cancellationToken) is not { } published)
            {
                break;
            }

            sent += published;
        }

        return sent;
    }

    /// <summary>
    /// Publishes every desired budget again, pending or not: after a broker restart that lost retained messages,
    /// devices that connect find their budget. Devices ignore a version they have applied already.
    /// </summary>
    public async Task<int> RepublishAllAsync(CancellationToken cancellationToken)
    {
        var sent = 0;
        foreach (var budget in await store.ListDesiredBudgetsAsync(fleet, cancellationToken))
        {
            if (await PublishAsync(budget.DeviceId, republish: true, cancellationToken) is not { } published)
            {
                break;
            }

            sent += published;
        }

        return sent;
    }

    /// <summary>Publishes one device's budget if it is pending and no other coordinator is publishing it.</summary>
    public Task FlushAsync(string deviceId, CancellationToken cancellationToken) => PublishAsync(deviceId, republish: false, cancellationToken);

    /// <returns>How many versions went out, or null when the broker refused (the budget stays pending).</returns>
    private async Task<int?> PublishAsync(string deviceId, bool republish, CancellationToken cancellationToken)
    {
        var sent = 0;
        for (var round = 0; round < MaxRounds; round++)
        {
            var claimed = await store.ClaimBudgetPublishAsync(fleet, deviceId, owner, time.GetUtcNow(), ClaimLease, republish && round == 0, cancellationToken);
            if (claimed is null)
            {
                // Published already, or another coordinator holds the claim and publishes whatever is newest.
                return sent;
            }

            long? published = null;
            using var grace = new CancellationTokenSource();
            using var stopping = cancellationToken.Register(() => grace.CancelAfter(StopGrace));
            try
            {
                await publisher.PublishAsync(claimed.DeviceId, claimed.Version, claimed.Bytes, grace.Token);
                published = claimed.Version;
                sent++;
                counters.BudgetPublished();
                logger.LogInformation("Published budget v{Version} for {Device}: {Bytes} bytes", claimed.Version, claimed.DeviceId, claimed.Bytes);
            }
            catch (MqttException ex)
            {
                logger.LogWarning("Budget v{Version} for {Device} stays pending: {Error}", claimed.Version, claimed.DeviceId, ex.Message);
            }
            catch (OperationCanceledException) when (grace.IsCancellationRequested)
            {
                logger.LogWarning("Budget v{Version} for {Device} stays pending: not acknowledged within {Grace} of the stop", claimed.Version, claimed.DeviceId, StopGrace);
            }

            // Not cancelled by a shutdown: a version that went out is recorded, or the next start would send it again.
            var now = await store.CompleteBudgetPublishAsync(fleet, deviceId, owner, published, CancellationToken.None);
            if (published is null)
            {
                return null;
            }

            if (now is null || now.IsPublished)
            {
                return sent;
            }
        }

        return sent;
    }
}
