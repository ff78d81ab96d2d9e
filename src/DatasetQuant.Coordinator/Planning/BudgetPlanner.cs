using DatasetQuant.Coordinator.Store;

namespace DatasetQuant.Coordinator.Planning;

/// <summary>What the planner wants for one device, and whether that differs from what is desired now.</summary>
public readonly record struct BudgetDecision(long Bytes, bool Changed, string Reason);

/// <summary>Turns a device's reported flash and the fleet policy into its byte budget. Pure: no I/O, no clock.</summary>
public sealed class BudgetPlanner
{
    public BudgetPlanner(BudgetPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        policy.Validate();
        Policy = policy;
    }

    public BudgetPolicy Policy { get; }

    /// <summary>The budget the policy gives a device with this much free flash and this much already held.</summary>
    public long Target(long freeFlashBytes, long bytesHeld, string? board)
    {
        // What the device could give the datasets: its free flash plus what the datasets already use. Counting the
        // held bytes keeps the budget from falling as the device fills up with the data it was told to keep.
        var available = SaturatingAdd(Math.Max(0, freeFlashBytes), Math.Max(0, bytesHeld));
        var cap = Policy.CapFor(board);
        var share = (long)Math.Floor(available * Policy.FractionOfAvailable);
        var bytes = Math.Clamp(share, Math.Min(Policy.MinBytes, cap), cap);
        bytes = Math.Min(bytes, available);
        return bytes - (bytes % Policy.GranularityBytes);
    }

    /// <summary>
    /// Decides one device's budget given the desired budget held now (null when it has none yet). A device that has
    /// not said how much flash it has keeps what it has: no change.
    /// </summary>
    public BudgetDecision Decide(DeviceRecord device, DesiredBudget? current)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.FreeFlashBytes is not { } freeFlash)
        {
            return new BudgetDecision(current?.Bytes ?? 0, false, "free flash not reported");
        }

        var target = Target(freeFlash, device.BytesHeld, device.Board);
        if (current is null)
        {
            return new BudgetDecision(target, true, "first budget");
        }

        if (current.Bytes == target)
        {
            return new BudgetDecision(target, false, "unchanged");
        }

        var available = SaturatingAdd(Math.Max(0, freeFlash), Math.Max(0, device.BytesHeld));
        var allowed = current.Bytes <= Policy.CapFor(device.Board) && current.Bytes <= available;
        var drift = Math.Abs(target - current.Bytes) / (double)Math.Max(1, current.Bytes);
        if (allowed && drift < Policy.Hysteresis)
        {
            return new BudgetDecision(current.Bytes, false, $"within hysteresis ({drift:P1} < {Policy.Hysteresis:P0})");
        }

        // The policy (fraction, cap, step) may have changed as well as the flash: the reason names both.
        return new BudgetDecision(target, true,
            target > current.Bytes ? "more flash available or a higher cap" : allowed ? "less flash available or a lower share" : "over cap or flash");
    }

    private static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;
}
