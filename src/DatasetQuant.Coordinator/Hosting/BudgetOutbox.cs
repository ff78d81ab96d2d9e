using DatasetQuant.Coordinator.Store;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Coordinator;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Coordinator.Hosting;

/// <summary>
/// Publishes the desired budgets the store holds as not yet published, then marks them published. A crash between
/// the two publishes the same version again on restart, which devices ignore; nothing is lost in between.
/// </summary>
public sealed class BudgetOutbox(IFleetStore store, BudgetPublisher publisher, string fleet, ILogger<BudgetOutbox> logger)
{
    /// <summary>Publishes every pending budget; returns how many went out. A broker error leaves the rest pending.</summary>
    public async Task<int> FlushAsync(CancellationToken cancellationToken)
    {
        var sent = 0;
        foreach (var budget in await store.ListUnpublishedBudgetsAsync(fleet, cancellationToken))
        {
            if (!await TryPublishAsync(budget, cancellationToken))
            {
                break;
            }

            sent++;
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
            if (!await TryPublishAsync(budget, cancellationToken))
            {
                break;
            }

            sent++;
        }

        return sent;
    }

    /// <summary>Publishes one device's budget if it is pending.</summary>
    public async Task FlushAsync(string deviceId, CancellationToken cancellationToken)
    {
        if (await store.GetDesiredBudgetAsync(fleet, deviceId, cancellationToken) is { IsPublished: false } budget)
        {
            await TryPublishAsync(budget, cancellationToken);
        }
    }

    private async Task<bool> TryPublishAsync(DesiredBudget budget, CancellationToken cancellationToken)
    {
        try
        {
            await publisher.PublishAsync(budget.DeviceId, budget.Version, budget.Bytes, cancellationToken);
        }
        catch (MqttException ex)
        {
            logger.LogWarning("Budget v{Version} for {Device} stays pending: {Error}", budget.Version, budget.DeviceId, ex.Message);
            return false;
        }

        await store.MarkBudgetPublishedAsync(fleet, budget.DeviceId, budget.Version, cancellationToken);
        logger.LogInformation("Published budget v{Version} for {Device}: {Bytes} bytes", budget.Version, budget.DeviceId, budget.Bytes);
        return true;
    }
}
