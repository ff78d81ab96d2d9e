using System.Collections.Concurrent;
using System.Device.Gpio;
using System.Diagnostics;

namespace DatasetQuant.Testing;

/// <summary>
/// A GPIO chip in memory, behind System.Device.Gpio's driver seam, for machines without one: outputs record every
/// write with its time, inputs raise the edges a test drives. The code under test uses it through a real
/// <see cref="GpioController"/>, as it would a board's libgpiod driver.
/// </summary>
public sealed class SimulatedGpioChip(int lineCount = 54, bool biasSupported = true) : GpioDriver
{
    private readonly ConcurrentDictionary<int, SimulatedLine> _lines = new();
    private readonly ConcurrentDictionary<int, SimulatedLine> _closed = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _disposed;

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    protected override int PinCount => lineCount;

    /// <summary>Whether <paramref name="line"/> is open (requested) now.</summary>
    public bool IsOpen(int line) => _lines.ContainsKey(line);

    /// <summary>The mode <paramref name="line"/> was last set to; throws when it is not open.</summary>
    public PinMode ModeOf(int line) => Line(line).Mode;

    /// <summary>
    /// Every value written to <paramref name="line"/> (its initial value first), with the time since the chip was
    /// made; after the line was closed, those of its last opening.
    /// </summary>
    public IReadOnlyList<(TimeSpan At, PinValue Value)> WritesTo(int line) =>
        _lines.TryGetValue(line, out var open) ? open.Writes : _closed.TryGetValue(line, out var closed) ? closed.Writes : Line(line).Writes;

    /// <summary>How often <paramref name="line"/> was read since it was opened: a sampling reader is watching once this grows.</summary>
    public int ReadsOf(int line) => _lines.TryGetValue(line, out var l) ? l.Reads : 0;

    /// <summary>Moves an input line's level the way <paramref name="edge"/> says and reports it as the chip would.</summary>
    public void Drive(int line, PinEventTypes edge) => Line(line).Drive(edge, line);

    protected override void OpenPin(int pinNumber)
    {
        ThrowIfDisposed();
        _lines.GetOrAdd(pinNumber, _ => new SimulatedLine(_clock));
    }

    protected override void ClosePin(int pinNumber)
    {
        if (_lines.TryRemove(pinNumber, out var line))
        {
            _closed[pinNumber] = line;
        }
    }

    protected override void SetPinMode(int pinNumber, PinMode mode) => Line(pinNumber).SetMode(mode, null);

    protected override void SetPinMode(int pinNumber, PinMode mode, PinValue initialValue) => Line(pinNumber).SetMode(mode, initialValue);

    protected override PinMode GetPinMode(int pinNumber) => Line(pinNumber).Mode;

    protected override bool IsPinModeSupported(int pinNumber, PinMode mode) =>
        mode is PinMode.Input or PinMode.Output || (biasSupported && mode is PinMode.InputPullUp or PinMode.InputPullDown);

    protected override PinValue Read(int pinNumber) => Line(pinNumber).Read();

    protected override void Write(int pinNumber, PinValue value) => Line(pinNumber).Write(value, pinNumber);

    protected override WaitForEventResult WaitForEvent(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken)
    {
        using var seen = new ManualResetEventSlim();
        var type = PinEventTypes.None;
        void OnEdge(object sender, PinValueChangedEventArgs e)
        {
            type = e.ChangeType;
            seen.Set();
        }

        AddCallbackForPinValueChangedEvent(pinNumber, eventTypes, OnEdge);
        try
        {
            seen.Wait(cancellationToken);
            return new WaitForEventResult { EventTypes = type, TimedOut = false };
        }
        catch (OperationCanceledException)
        {
            return new WaitForEventResult { EventTypes = PinEventTypes.None, TimedOut = true };
        }
        finally
        {
            RemoveCallbackForPinValueChangedEvent(pinNumber, OnEdge);
        }
    }

    protected override void AddCallbackForPinValueChangedEvent(int pinNumber, PinEventTypes eventTypes, PinChangeEventHandler callback) =>
        Line(pinNumber).Listen(eventTypes, callback);

    protected override void RemoveCallbackForPinValueChangedEvent(int pinNumber, PinChangeEventHandler callback) =>
        Line(pinNumber).Unlisten(callback);

    protected override void Dispose(bool disposing)
    {
        Interlocked.Exchange(ref _disposed, 1);
        _lines.Clear();
        base.Dispose(disposing);
    }

    private SimulatedLine Line(int line)
    {
        ThrowIfDisposed();
        return _lines.TryGetValue(line, out var l) ? l : throw new InvalidOperationException($"Line {line} of the simulated chip is not open.");
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, this);

    private sealed class SimulatedLine(Stopwatch clock)
    {
        private readonly Lock _gate = new();
        private readonly List<(TimeSpan, PinValue)> _writes = [];
        private readonly List<(PinEventTypes Types, PinChangeEventHandler Callback)> _listeners = [];
        private PinMode _mode = PinMode.Input;
        private PinValue _level = PinValue.Low;
        private int _reads;

        public PinMode Mode
        {
            get
            {
                lock (_gate)
                {
                    return _mode;
                }
            }
        }

        public PinValue Level
        {
            get
            {
                lock (_gate)
                {
                    return _level;
                }
            }
        }

        public IReadOnlyList<(TimeSpan At, PinValue Value)> Writes
        {
            get
            {
                lock (_gate)
                {
                    return [.. _writes];
                }
            }
        }

        public int Reads => Volatile.Read(ref _reads);

        public PinValue Read()
        {
            Interlocked.Increment(ref _reads);
            return Level;
        }

        public void SetMode(PinMode mode, PinValue? initialValue)
        {
            lock (_gate)
            {
                _mode = mode;
                if (mode == PinMode.Output)
                {
                    _level = initialValue ?? PinValue.Low;
                    _writes.Add((clock.Elapsed, _level));
                }
                else
                {
                    // A pull sets the level an open contact reads.
                    _level = mode == PinMode.InputPullUp ? PinValue.High : PinValue.Low;
                }
            }
        }

        public void Write(PinValue value, int line)
        {
            lock (_gate)
            {
                if (_mode != PinMode.Output)
                {
                    throw new InvalidOperationException($"Line {line} of the simulated chip is an input ({_mode}).");
                }

                _level = value;
                _writes.Add((clock.Elapsed, value));
            }
        }

        public void Listen(PinEventTypes types, PinChangeEventHandler callback)
        {
            lock (_gate)
            {
                _listeners.Add((types, callback));
            }
        }

        public void Unlisten(PinChangeEventHandler callback)
        {
            lock (_gate)
            {
                _listeners.RemoveAll(l => l.Callback == callback);
            }
        }

        public void Drive(PinEventTypes edge, int line)
        {
            if (edge is not (PinEventTypes.Rising or PinEventTypes.Falling))
            {
                throw new ArgumentOutOfRangeException(nameof(edge), edge, "An edge is Rising or Falling.");
            }

            (PinEventTypes Types, PinChangeEventHandler Callback)[] listeners;
            lock (_gate)
            {
                if (_mode == PinMode.Output)
                {
                    throw new InvalidOperationException($"Line {line} of the simulated chip is an output.");
                }

                _level = edge == PinEventTypes.Rising ? PinValue.High : PinValue.Low;
                listeners = [.. _listeners];
            }

            // Outside the lock, as a driver's event thread calls back.
            foreach (var (types, callback) in listeners)
            {
                if ((types & edge) != 0)
                {
                    callback(this, new PinValueChangedEventArgs(edge, line));
                }
            }
        }
    }
}
