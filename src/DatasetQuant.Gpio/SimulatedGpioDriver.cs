using System.Collections.Concurrent;

namespace DatasetQuant.Gpio;

/// <summary>
/// GPIO in memory: outputs record every write with its time, inputs replay edges a test injects. Used by tests and,
/// when configured, on machines without a GPIO chip to see what the LED would show.
/// </summary>
public sealed class SimulatedGpioDriver : IGpioDriver
{
    private readonly ConcurrentDictionary<int, SimulatedOutputLine> _outputs = new();
    private readonly ConcurrentDictionary<int, SimulatedEdgeLine> _inputs = new();
    private readonly TimeProvider _time;

    public SimulatedGpioDriver(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
    }

    public string Description => "simulated GPIO";

    public IGpioOutputLine OpenOutput(int offset, bool initialValue)
    {
        var line = new SimulatedOutputLine(offset, _time);
        if (!_outputs.TryAdd(offset, line))
        {
            throw new GpioException($"GPIO line {offset} of the simulated chip is already requested");
        }

        line.Write(initialValue);
        return line;
    }

    public IGpioEdgeLine OpenEdgeInput(int offset)
    {
        var line = new SimulatedEdgeLine(offset);
        return _inputs.TryAdd(offset, line) ? line : throw new GpioException($"GPIO line {offset} of the simulated chip is already requested");
    }

    /// <summary>The output line at <paramref name="offset"/>, once something requested it.</summary>
    public SimulatedOutputLine Output(int offset) =>
        _outputs.TryGetValue(offset, out var line) ? line : throw new InvalidOperationException($"Line {offset} is not requested as output.");

    /// <summary>The input line at <paramref name="offset"/>, once something requested it.</summary>
    public SimulatedEdgeLine Input(int offset) =>
        _inputs.TryGetValue(offset, out var line) ? line : throw new InvalidOperationException($"Line {offset} is not requested as input.");

    public bool IsRequested(int offset) => _outputs.ContainsKey(offset) || _inputs.ContainsKey(offset);

    public void Dispose()
    {
        foreach (var line in _inputs.Values)
        {
            line.Dispose();
        }
    }
}

public sealed class SimulatedOutputLine(int offset, TimeProvider time) : IGpioOutputLine
{
    private readonly List<(TimeSpan At, bool Value)> _writes = [];
    private readonly long _start = time.GetTimestamp();

    public int Offset { get; } = offset;

    public bool Value { get; private set; }

    /// <summary>Every write since the line was requested, with the time since then.</summary>
    public IReadOnlyList<(TimeSpan At, bool Value)> Writes
    {
        get
        {
            lock (_writes)
            {
                return [.. _writes];
            }
        }
    }

    public void Write(bool value)
    {
        lock (_writes)
        {
            Value = value;
            _writes.Add((time.GetElapsedTime(_start), value));
        }
    }

    public void Dispose()
    {
    }
}

public sealed class SimulatedEdgeLine(int offset) : IGpioEdgeLine
{
    private readonly BlockingCollection<GpioEdgeEvent> _edges = new();
    private volatile bool _level;

    public int Offset { get; } = offset;

    /// <summary>Queues an edge as the kernel would report it, and moves the line's level with it.</summary>
    public void Inject(GpioEdge edge, TimeSpan timestamp)
    {
        _level = edge == GpioEdge.Rising;
        _edges.Add(new GpioEdgeEvent(edge, timestamp));
    }

    public bool Read() => _level;

    public bool TryWaitForEdge(TimeSpan timeout, out GpioEdgeEvent edge)
    {
        try
        {
            return _edges.TryTake(out edge, timeout);
        }
        catch (ObjectDisposedException)
        {
            edge = default;
            return false;
        }
    }

    public void Dispose() => _edges.Dispose();
}
