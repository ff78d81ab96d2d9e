namespace DatasetQuant.Gpio;

public enum ButtonChange
{
    None,
    Pressed,
    Released,
}

/// <summary>
/// Turns raw edges from a bouncing contact into clean presses: a new level counts only once it has held for the
/// debounce interval. Times are on one monotonic clock chosen by the caller; the class keeps no clock of its own.
/// </summary>
public sealed class ButtonDebouncer
{
    private readonly TimeSpan _stableFor;
    private readonly bool _activeLow;
    private bool _rawPressed;
    private bool _stablePressed;
    private TimeSpan _rawSince;

    /// <param name="activeLow">True when a press pulls the line low (a button to ground with a pull-up).</param>
    public ButtonDebouncer(TimeSpan stableFor, bool activeLow)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stableFor, TimeSpan.Zero);
        _stableFor = stableFor;
        _activeLow = activeLow;
    }

    /// <summary>True while a level change waits for its debounce interval to pass.</summary>
    public bool IsSettling => _rawPressed != _stablePressed;

    /// <summary>Records an edge seen at <paramref name="at"/>.</summary>
    public void OnEdge(GpioEdge edge, TimeSpan at)
    {
        var pressed = (edge == GpioEdge.Rising) != _activeLow;
        if (pressed != _rawPressed)
        {
            _rawPressed = pressed;
            _rawSince = at;
        }
    }

    /// <summary>Reports a press or release once the new level has held until <paramref name="now"/>.</summary>
    public ButtonChange Poll(TimeSpan now)
    {
        if (_rawPressed == _stablePressed || now - _rawSince < _stableFor)
        {
            return ButtonChange.None;
        }

        _stablePressed = _rawPressed;
        return _stablePressed ? ButtonChange.Pressed : ButtonChange.Released;
    }
}
