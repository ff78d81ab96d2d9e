using System.Device.Gpio;

namespace DatasetQuant.Gpio.Tests;

public sealed class ButtonDebouncerTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void A_bouncing_press_and_release_count_once_each()
    {
        var debouncer = new ButtonDebouncer(Ms(30), activeLow: true);
        var changes = new List<ButtonChange>();

        // Contact bounce: falling (press), rising, falling within 3 ms, then held; release bounces the same way.
        (PinEventTypes Edge, double At)[] edges =
        [
            (PinEventTypes.Falling, 0), (PinEventTypes.Rising, 1), (PinEventTypes.Falling, 2.5),
            (PinEventTypes.Rising, 200), (PinEventTypes.Falling, 201), (PinEventTypes.Rising, 203),
        ];
        var next = 0;
        for (double now = 0; now <= 400; now += 0.5)
        {
            var change = ButtonChange.None;
            while (next < edges.Length && edges[next].At <= now)
            {
                change = debouncer.OnEdge(edges[next].Edge, Ms(edges[next].At), Ms(now));
                next++;
            }

            change = change == ButtonChange.None ? debouncer.Poll(Ms(now)) : change;
            if (change != ButtonChange.None)
            {
                changes.Add(change);
            }
        }

        Assert.Equal([ButtonChange.Pressed, ButtonChange.Released], changes);
    }

    [Fact]
    public void A_glitch_shorter_than_the_interval_is_ignored()
    {
        var debouncer = new ButtonDebouncer(Ms(30), activeLow: true);

        debouncer.OnEdge(PinEventTypes.Falling, Ms(10), Ms(10));
        Assert.Equal(ButtonChange.None, debouncer.Poll(Ms(20)));
        Assert.Equal(ButtonChange.None, debouncer.OnEdge(PinEventTypes.Rising, Ms(25), Ms(25)));

        Assert.Equal(ButtonChange.None, debouncer.Poll(Ms(100)));
        Assert.False(debouncer.IsSettling);
    }

    [Fact]
    public void Active_high_wiring_presses_on_the_rising_edge()
    {
        var debouncer = new ButtonDebouncer(Ms(5), activeLow: false);

        debouncer.OnEdge(PinEventTypes.Rising, Ms(0), Ms(0));

        Assert.Equal(ButtonChange.None, debouncer.Poll(Ms(4)));
        Assert.Equal(ButtonChange.Pressed, debouncer.Poll(Ms(5)));
    }

    [Fact]
    public void Edges_read_late_in_one_burst_are_judged_by_their_kernel_timestamps()
    {
        var debouncer = new ButtonDebouncer(Ms(30), activeLow: true);

        // A 80 ms press, but the reader was busy: both edges arrive at 200 ms.
        Assert.Equal(ButtonChange.None, debouncer.OnEdge(PinEventTypes.Falling, Ms(0), Ms(200)));
        Assert.Equal(ButtonChange.Pressed, debouncer.OnEdge(PinEventTypes.Rising, Ms(80), Ms(200)));

        Assert.Equal(ButtonChange.None, debouncer.Poll(Ms(220)));
        Assert.Equal(ButtonChange.Released, debouncer.Poll(Ms(230)));
    }
}
