using DatasetQuant.Coordinator.Publishing;
using DatasetQuant.Coordinator.Store;

namespace DatasetQuant.Coordinator.Tests;

public sealed class LayerCutPointsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static DesiredBudget Desired(string device, long version, long bytes) => new("lab", device, version, bytes, T0, version);

    private static DeviceRecord Device(string device, long? reportedVersion, long? reportedBytes) =>
        new("lab", device, "rpi-4", true, T0, 1L << 30, 0, 0, reportedVersion, reportedBytes);

    [Fact]
    public void Each_device_cuts_at_its_applied_budget_less_its_other_datasets()
    {
        DesiredBudget[] budgets = [Desired("a", 2, 4_000_000), Desired("b", 1, 9_000_000), Desired("c", 3, 6_000_000), Desired("d", 1, 6_000_000)];
        DeviceRecord[] devices =
        [
            Device("a", 2, 4_000_000),
            Device("b", 1, 3_000_000), // its flash quota capped the budget it applies
            Device("c", 2, 2_000_000), // has not applied version 3 yet: the desired one counts
            Device("d", null, null),
        ];
        DeviceHolding[] holdings =
        [
            new("a", "fm-dim", 2, 2, 650_000),
            new("a", "fmnist", 4, 1, 3_000_000), // the dataset being published does not count
            new("c", "fm-dim", 2, 1, 6_000_000), // leaves device c nothing: no cut
        ];

        var cuts = LayerCutPoints.Compute(budgets, devices, holdings, "fmnist");

        Assert.Equal([3_000_000L, 3_350_000L, 6_000_000L], cuts);
    }

    [Fact]
    public void Cut_points_are_distinct_and_bounded()
    {
        var budgets = Enumerable.Range(0, 1000).Select(i => Desired($"d{i}", 1, 1_000_000 + (i % 300 * 1000))).ToList();

        var cuts = LayerCutPoints.Compute(budgets, [], [], "fmnist");

        Assert.Equal(LayerCutPoints.MaxCutPoints, cuts.Count);
        Assert.Equal(cuts.Order().Distinct(), cuts);
    }
}
