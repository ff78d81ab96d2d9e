namespace DatasetQuant.Coordinator.Hosting;

/// <summary>
/// What this coordinator process did since it started, counted where it happens and read by <c>/metrics</c> and the
/// fleet page. Plain counters, so the coordinator's logic knows nothing of the exposition format.
/// </summary>
public sealed class CoordinatorCounters
{
    private long _stateReports;
    private long _budgetReports;
    private long _pullsReceived;
    private long _manifestAnnouncements;
    private long _messagesFailed;
    private long _pullsAnswered;
    private long _repairChunks;
    private long _repairBytes;
    private long _pullsDropped;
    private long _pullsFailed;
    private long _pullsDuplicate;
    private long _budgetPlans;
    private long _budgetDecisions;
    private long _budgetPublishes;

    /// <summary>Device state messages handled (recorded or found older than the one held).</summary>
    public long StateReports => Interlocked.Read(ref _stateReports);

    public long BudgetReports => Interlocked.Read(ref _budgetReports);

    /// <summary>Pulls this coordinator received (with a share group, its part of the fleet's pulls).</summary>
    public long PullsReceived => Interlocked.Read(ref _pullsReceived);

    public long ManifestAnnouncements => Interlocked.Read(ref _manifestAnnouncements);

    /// <summary>Messages whose handling failed (store or broker error); each was logged.</summary>
    public long MessagesFailed => Interlocked.Read(ref _messagesFailed);

    public long PullsAnswered => Interlocked.Read(ref _pullsAnswered);

    public long RepairChunks => Interlocked.Read(ref _repairChunks);

    public long RepairBytes => Interlocked.Read(ref _repairBytes);

    /// <summary>Pulls dropped because the repair queue was full (the device asks again).</summary>
    public long PullsDropped => Interlocked.Read(ref _pullsDropped);

    public long PullsFailed => Interlocked.Read(ref _pullsFailed);

    /// <summary>Pulls dropped because the very same pull was waiting in the queue already (a device asking again).</summary>
    public long PullsDuplicate => Interlocked.Read(ref _pullsDuplicate);

    /// <summary>Times a device's budget was planned (after each report that changed the device's row).</summary>
    public long BudgetPlans => Interlocked.Read(ref _budgetPlans);

    /// <summary>Budget changes this coordinator decided and wrote as a new version.</summary>
    public long BudgetDecisions => Interlocked.Read(ref _budgetDecisions);

    /// <summary>Desired budgets this coordinator published (each under its claim).</summary>
    public long BudgetPublishes => Interlocked.Read(ref _budgetPublishes);

    public void StateReport() => Interlocked.Increment(ref _stateReports);

    public void BudgetReport() => Interlocked.Increment(ref _budgetReports);

    public void PullReceived() => Interlocked.Increment(ref _pullsReceived);

    public void ManifestAnnounced() => Interlocked.Increment(ref _manifestAnnouncements);

    public void MessageFailed() => Interlocked.Increment(ref _messagesFailed);

    public void RepairAnswered(long chunks, long bytes)
    {
        Interlocked.Increment(ref _pullsAnswered);
        Interlocked.Add(ref _repairChunks, chunks);
        Interlocked.Add(ref _repairBytes, bytes);
    }

    public void PullDropped() => Interlocked.Increment(ref _pullsDropped);

    public void PullFailed() => Interlocked.Increment(ref _pullsFailed);

    public void PullDuplicate() => Interlocked.Increment(ref _pullsDuplicate);

    public void BudgetPlanned() => Interlocked.Increment(ref _budgetPlans);

    public void BudgetDecided() => Interlocked.Increment(ref _budgetDecisions);

    public void BudgetPublished() => Interlocked.Increment(ref _budgetPublishes);
}
