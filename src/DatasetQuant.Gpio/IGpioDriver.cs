namespace DatasetQuant.Gpio;

/// <summary>
/// One GPIO chip: the lines the status LED and the button use. The libgpiod driver talks to the kernel; the
/// simulated driver records writes and replays edges for tests and for boards without GPIO.
/// </summary>
public interface IGpioDriver : IDisposable
{
    /// <summary>What this driver drives, for log lines (for example "libgpiod 1.6.3 gpiochip0").</summary>
    string Description { get; }

    /// <summary>Requests <paramref name="offset"/> as an output driven to <paramref name="initialValue"/>.</summary>
    IGpioOutputLine OpenOutput(int offset, bool initialValue);

    /// <summary>Requests <paramref name="offset"/> as an input reporting both edges.</summary>
    IGpioEdgeLine OpenEdgeInput(int offset);
}

public interface IGpioOutputLine : IDisposable
{
    int Offset { get; }

    void Write(bool value);
}

public interface IGpioEdgeLine : IDisposable
{
    int Offset { get; }

    /// <summary>The level of the line right now.</summary>
    bool Read();

    /// <summary>
    /// Blocks up to <paramref name="timeout"/> for the next edge; false on timeout. Callers loop with a short timeout
    /// and check their cancellation token between waits.
    /// </summary>
    bool TryWaitForEdge(TimeSpan timeout, out GpioEdgeEvent edge);
}

public enum GpioEdge
{
    Rising,
    Falling,
}

/// <param name="Timestamp">Monotonic time of the edge as the kernel measured it (simulated: as the test set it).</param>
public readonly record struct GpioEdgeEvent(GpioEdge Edge, TimeSpan Timestamp);
