using DatasetQuant.Coordinator.Planning;
using DatasetQuant.Coordinator.Store;

namespace DatasetQuant.Coordinator.Tests;

public sealed class BudgetPlannerTests
{
    private const long KiB = 1024;
    private const long MiB = 1024 * KiB;
    private const long GiB = 1024 * MiB;
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private static readonly BudgetPolicy Policy = new()
    {
        FractionOfAvailable = 0.25,
        MinBytes = 8 * MiB,
        MaxBytes = 2 * GiB,
        GranularityBytes = 64 * KiB,
        Hysteresis = 0.05,
        BoardCaps = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase) { ["rpi-zero-2w"] = 256 * MiB },
    };

    private static DeviceRecord Device(long free, long held, string? board = "rpi-4") =>
        new("lab", "pi", board, true, T0, free, held, 0, null, null);

    private static DesiredBudget Desired(long bytes) => new("lab", "pi", 3, bytes, T0, 3);

    [Fact]
    public void Quarter_of_free_plus_held_rounded_down_to_64_KiB()
    {
        var planner = new BudgetPlanner(Policy);
        // (3072 MiB + 1 MiB) / 4 = 768.25 MiB, already a multiple of 64 KiB.
        Assert.Equal(768 * MiB + 256 * KiB, planner.Target(3 * GiB, 1 * MiB, "rpi-4"));
        // 1,000,000,000 / 4 = 250,000,000, rounded down to a multiple of 65,536: 3814 × 65,536 = 249,954,304.
        Assert.Equal(249_954_304, planner.Target(1_000_000_000, 0, "rpi-4"));
    }

    [Fact]
    public void Held_bytes_count_so_filling_up_does_not_lower_the_budget()
    {
        var planner = new BudgetPlanner(Policy);
        var before = planner.Target(4 * GiB, 0, "rpi-4");
        var after = planner.Target(4 * GiB - before, before, "rpi-4");
        Assert.Equal(1 * GiB, before);
        Assert.Equal(before, after);
    }

    [Fact]
    public void Board_cap_and_fleet_max_bound_the_budget()
    {
        var planner = new BudgetPlanner(Policy);
        Assert.Equal(256 * MiB, planner.Target(32 * GiB, 0, "rpi-zero-2w"));
        Assert.Equal(256 * MiB, planner.Target(32 * GiB, 0, "RPI-ZERO-2W"));
        Assert.Equal(2 * GiB, planner.Target(32 * GiB, 0, "jetson-orin-nano"));
        Assert.Equal(2 * GiB, planner.Target(32 * GiB, 0, null));
    }

    [Fact]
    public void Small_devices_get_the_minimum_but_never_more_than_they_have()
    {
        var planner = new BudgetPlanner(Policy);
        Assert.Equal(8 * MiB, planner.Target(20 * MiB, 0, "rpi-4"));
        Assert.Equal(5 * MiB, planner.Target(5 * MiB, 0, "rpi-4"));
        Assert.Equal(0, planner.Target(0, 0, "rpi-4"));
        Assert.Equal(0, planner.Target(-5, -5, "rpi-4"));
    }

    [Fact]
    public void First_budget_is_always_a_change()
    {
        var decision = new BudgetPlanner(Policy).Decide(Device(4 * GiB, 0), current: null);
        Assert.True(decision.Changed);
        Assert.Equal(1 * GiB, decision.Bytes);
    }

    [Fact]
    public void Same_target_is_no_change()
    {
        var decision = new BudgetPlanner(Policy).Decide(Device(4 * GiB, 0), Desired(1 * GiB));
        Assert.False(decision.Changed);
        Assert.Equal(1 * GiB, decision.Bytes);
    }

    [Fact]
    public void Drift_under_hysteresis_keeps_the_current_budget()
    {
        // Free flash fell by 160 MiB: target 984 MiB, 3.9% below 1 GiB.
        var decision = new BudgetPlanner(Policy).Decide(Device(4 * GiB - 160 * MiB, 0), Desired(1 * GiB));
        Assert.False(decision.Changed);
        Assert.Equal(1 * GiB, decision.Bytes);
    }

    [Fact]
    public void Drift_over_hysteresis_moves_the_budget_both_ways()
    {
        var planner = new BudgetPlanner(Policy);
        var down = planner.Decide(Device(3 * GiB, 0), Desired(1 * GiB));
        Assert.True(down.Changed);
        Assert.Equal(768 * MiB, down.Bytes);

        var up = planner.Decide(Device(6 * GiB, 0), Desired(1 * GiB));
        Assert.True(up.Changed);
        Assert.Equal(1536 * MiB, up.Bytes);
    }

    [Fact]
    public void A_budget_over_a_new_cap_is_lowered_even_within_hysteresis()
    {
        var tighter = Policy with { MaxBytes = 1000 * MiB };
        var decision = new BudgetPlanner(tighter).Decide(Device(8 * GiB, 0), Desired(1 * GiB));
        Assert.True(decision.Changed);
        Assert.Equal(1000 * MiB, decision.Bytes);
    }

    [Fact]
    public void Unknown_free_flash_changes_nothing()
    {
        var device = Device(0, 5 * MiB) with { FreeFlashBytes = null };
        var decision = new BudgetPlanner(Policy).Decide(device, Desired(7 * MiB));
        Assert.False(decision.Changed);
        Assert.Equal(7 * MiB, decision.Bytes);
        Assert.False(new BudgetPlanner(Policy).Decide(device, null).Changed);
    }

    [Theory]
    [InlineData(0.0, 0, 10, 1, 0.05, "fraction")]
    [InlineData(1.5, 0, 10, 1, 0.05, "fraction")]
    [InlineData(0.5, -1, 10, 1, 0.05, "minimum")]
    [InlineData(0.5, 20, 10, 1, 0.05, "maximum")]
    [InlineData(0.5, 0, 10, 0, 0.05, "granularity")]
    [InlineData(0.5, 0, 10, 1, 1.0, "hysteresis")]
    public void Invalid_policies_are_refused_with_the_setting_named(double fraction, long min, long max, long granularity, double hysteresis, string named)
    {
        var policy = new BudgetPolicy { FractionOfAvailable = fraction, MinBytes = min, MaxBytes = max, GranularityBytes = granularity, Hysteresis = hysteresis };
        var ex = Assert.Throws<ArgumentException>(() => new BudgetPlanner(policy));
        Assert.Contains(named, ex.Message);
    }
}
