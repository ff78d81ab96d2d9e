using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Messages;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Sync.Device;

/// <summary>
/// The device's state report (<c>devices/{id}/state</c>, retained): what it holds per dataset, its free flash, budget and
/// the metrics its host contributes; sent when a session starts, periodically, and soon after progress.
/// </summary>
public sealed partial class DeviceSyncEngine
{
    /// <summary>The next periodic report comes within <see cref="ProgressReportDelay"/> (unless one is due sooner).</summary>
    private void ReportProgressSoon()
    {
        var soon = _time.GetUtcNow() + ProgressReportDelay;
        if (soon < _nextStateReport)
        {
            _nextStateReport = soon;
        }
    }

    private Task<bool>? StartStateReport()
    {
        var connection = _connection;
        if (connection is null)
        {
            return null;
        }

        var message = BuildStateMessage();
        _stateDirty = false;
        _nextStateReport = _time.GetUtcNow() + _options.StateReportInterval;
        return PublishStateReportAsync(connection, message);
    }

    /// <returns>False when the broker did not take the report (logged).</returns>
    private async Task<bool> PublishStateReportAsync(IMqttConnection connection, MqttMessage message)
    {
        try
        {
            await connection.PublishAsync(message).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is MqttException or ObjectDisposedException)
        {
            _logger.LogWarning("State report of device {Device} not published: {Error}", DeviceId, ex.Message);
            return false;
        }
    }

    /// <summary>The report a new session starts with, awaited; one the broker did not take is sent again by the next tick.</summary>
    private async Task PublishStateAsync()
    {
        if (StartStateReport() is { } report)
        {
            _stateDirty |= !await report.ConfigureAwait(false);
        }
    }

    private MqttMessage BuildStateMessage()
    {
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var contributor in _contributors)
        {
            try
            {
                contributor.Contribute(metrics);
            }
            catch (Exception ex)
            {
                _logger.LogWarning(ex, "State contributor {Contributor} failed", contributor.GetType().Name);
            }
        }

        var state = BuildState(metrics.Count > 0 ? metrics : null);
        return new MqttMessage(_topics.DeviceState(DeviceId), SyncMessageCodec.Serialize(state), MqttQos.AtLeastOnce, Retain: true)
        {
            ContentType = "application/json",
        };
    }

    private DeviceStateMessage BuildState(Dictionary<string, double>? metrics)
    {
        var datasets = new List<HeldDatasetState>();
        foreach (var (name, holdings) in _store.State.Datasets)
        {
            datasets.Add(new HeldDatasetState
            {
                Name = name,
                ManifestVersion = holdings.Signed.Manifest.Version,
                Complete = IsComplete(holdings),
                ReceivedBytes = holdings.ReceivedBytes,
                Layers = holdings.Signed.Manifest.IsLayered ? holdings.LayersApplied : null,
                Shards = holdings.Signed.Manifest.IsLayered
                    ? LayeredShardStates(holdings)
                    : holdings.Shards.Select(s => new HeldShardState { Id = s.Id, Bytes = s.Bytes, Precision = s.Precision }).ToList(),
            });
        }

        var held = RefreshHeldBytes();
        return new DeviceStateMessage
        {
            Device = DeviceId,
            Status = DeviceStateMessage.Online,
            FreeFlashBytes = FlashSpace.Free(_store.DataDirectory, _options.FlashQuotaBytes, held),
            HeldBytes = held,
            BudgetBytes = EffectiveBudget,
            BudgetVersion = _store.State.BudgetVersion,
            Datasets = datasets,
            Metrics = metrics,
            UpdatedUtc = _time.GetUtcNow(),
        };
    }
}
