using DatasetQuant.Sync.Device;

namespace DatasetQuant.Agent.FineTuning;

/// <summary>
/// Adds the last fine-tune's numbers to the device's state document: <c>accuracy</c> on the held-out local shard
/// (only after a completed run), <c>fine_tune_completed</c> (1 or 0) and <c>fine_tune_seconds</c>.
/// </summary>
public sealed class FineTuneStateContributor(FineTuneService service) : IDeviceStateContributor
{
    public void Contribute(IDictionary<string, double> metrics)
    {
        if (service.LastReport is not { } report)
        {
            return;
        }

        metrics["fine_tune_completed"] = report.Completed ? 1 : 0;
        metrics["fine_tune_seconds"] = Math.Round(report.DurationSeconds, 3);
        if (report.Completed && report.HeldOutAccuracy is { } accuracy)
        {
            metrics["accuracy"] = accuracy;
        }
    }
}
