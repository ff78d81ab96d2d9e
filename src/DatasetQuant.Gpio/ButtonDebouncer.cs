using System.Device.Gpio;

namespace DatasetQuant.Gpio;

public enum ButtonChange
{
    None,
    Pressed,
    Released,
}

/// <summary>
/// Turns raw edges from a bouncing contact into clean presses: a new level counts only once it has held for the
/// debounce interval. Two clocks, because edges can be read late and in bursts: between two edges the edges' own
/// timestamps decide how long a level held; after the last edge, the caller's monotonic clock (when the edge was
/// received and now) decides. (ButtonService samples the line, so it passes the time of the sample that saw the
/// change for both.) The class keeps no clock of its own.
/// </summary>
public sealed class ButtonDebouncer
{
    private readonly TimeSpan _stableFor;
    private readonly bool _activeLow;
    private bool _rawPressed;
    private bool _stablePressed;
    private TimeSpan _rawSinceEdge;
    private TimeSpan _rawSinceReceived;

    /// <param name="activeLow">True when a press pulls the line low (a button to ground with a pull-up).</param>
    public ButtonDebouncer(TimeSpan stableFor, bool activeLow)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stableFor, TimeSpan.Zero);
        _stableFor = stableFor;
        _activeLow = activeLow;
    }

    /// <summary>True while a level change waits for its debounce interval to pass.</summary>
    public bool IsSettling => _rawPressed != _stablePressed;

    /// <summary>
    /// Records an edge that happened at <paramref name="edgeTime"/> and the caller read at <paramref name="receivedAt"/>.
    /// Returns the change this edge completes: the level before it, if that level held long enough by edge time.
    /// </summary>
    public ButtonChange OnEdge(PinEventTypes edge, TimeSpan edgeTime, TimeSpan receivedAt)
    {
        var change = IsSettling && edgeTime - _rawSinceEdge >= _stableFor ? Commit() : ButtonChange.None;
        var pressed = (edge == PinEventTypes.Rising) != _activeLow;
        if (pressed != _rawPressed)
        {
            _rawPressed = pressed;
            _rawSinceEdge = edgeTime;
            _rawSinceReceived = receivedAt;
        }

        return change;
    }

    /// <summary>Reports a press or release once the level of the last edge has held until <paramref name="now"/>.</summary>
    public ButtonChange Poll(TimeSpan now) =>
        IsSettling && now - _rawSinceReceived >= _stableFor ? Commit() : ButtonChange.None;

    private ButtonChange Commit()
    {
        _stablePressed = _rawPressed;
        return _stablePressed ? ButtonChange.Pressed : ButtonChange.Released;
    }
}
