using System.Runtime.InteropServices;
using DatasetQuant.Gpio.Interop;

namespace DatasetQuant.Gpio;

/// <summary>GPIO through libgpiod v1 (the character device <c>/dev/gpiochipN</c>).</summary>
public sealed class LibgpiodDriver : IGpioDriver
{
    private const string Consumer = "dq-agent";

    private readonly GpiodChipHandle _chip;

    private LibgpiodDriver(GpiodChipHandle chip, string chipName)
    {
        _chip = chip;
        ChipName = chipName;
        Description = $"libgpiod {LibraryVersion} {chipName}";
    }

    public string ChipName { get; }

    public string Description { get; }

    /// <summary>The version libgpiod reports (for example "1.6.3"); loads the library on first use.</summary>
    public static string LibraryVersion => Marshal.PtrToStringUTF8(Libgpiod.gpiod_version_string()) ?? "unknown";

    /// <summary>
    /// Opens a chip by name (<c>gpiochip0</c>, looked up under /dev), by path (<c>/dev/gpiochip4</c>) or by label
    /// (<c>label:pinctrl-rp1</c>, for chips whose number changes between kernels).
    /// Throws <see cref="GpioException"/> naming the chip when it is missing or not accessible.
    /// </summary>
    public static LibgpiodDriver Open(string chip)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(chip);
        const string LabelPrefix = "label:";
        nint raw;
        string where;
        if (chip.StartsWith(LabelPrefix, StringComparison.Ordinal))
        {
            raw = Libgpiod.gpiod_chip_open_by_label(chip[LabelPrefix.Length..]);
            where = "no chip under /dev has this label";
        }
        else if (chip.Contains('/', StringComparison.Ordinal))
        {
            raw = Libgpiod.gpiod_chip_open(chip);
            where = chip;
        }
        else
        {
            raw = Libgpiod.gpiod_chip_open_by_name(chip);
            where = $"/dev/{chip}";
        }

        if (raw == 0)
        {
            throw new GpioException($"GPIO chip '{chip}' ({where}) could not be opened", Marshal.GetLastPInvokeError());
        }

        return new LibgpiodDriver(GpiodChipHandle.FromRaw(raw), chip);
    }

    public IGpioOutputLine OpenOutput(int offset, bool initialValue)
    {
        var line = Request(offset, "output", l => Libgpiod.gpiod_line_request_output(l, Consumer, initialValue ? 1 : 0));
        return new OutputLine(this, line, offset);
    }

    public IGpioEdgeLine OpenEdgeInput(int offset)
    {
        var line = Request(offset, "both-edges input", l => Libgpiod.gpiod_line_request_both_edges_events(l, Consumer));
        return new EdgeLine(this, line, offset);
    }

    public void Dispose() => _chip.Dispose();

    private nint Request(int offset, string mode, Func<nint, int> request)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var added = false;
        _chip.DangerousAddRef(ref added);
        var line = Libgpiod.gpiod_chip_get_line(_chip.DangerousGetHandle(), (uint)offset);
        if (line == 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            _chip.DangerousRelease();
            throw new GpioException($"GPIO line {offset} does not exist on chip '{ChipName}'", errno);
        }

        if (request(line) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            _chip.DangerousRelease();
            throw new GpioException($"GPIO line {offset} on chip '{ChipName}' could not be requested as {mode}", errno);
        }

        return line;
    }

    /// <summary>A requested line; holds a reference on the chip so the chip outlives it.</summary>
    private abstract class RequestedLine(LibgpiodDriver driver, nint line, int offset) : IDisposable
    {
        private int _disposed;

        public int Offset { get; } = offset;

        protected nint Line => Volatile.Read(ref _disposed) == 0 ? line : throw new ObjectDisposedException($"GPIO line {Offset}");

        protected LibgpiodDriver Driver { get; } = driver;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Libgpiod.gpiod_line_release(line);
                Driver._chip.DangerousRelease();
            }
        }
    }

    private sealed class OutputLine(LibgpiodDriver driver, nint line, int offset) : RequestedLine(driver, line, offset), IGpioOutputLine
    {
        public void Write(bool value)
        {
            if (Libgpiod.gpiod_line_set_value(Line, value ? 1 : 0) != 0)
            {
                throw new GpioException($"Setting GPIO line {Offset} on chip '{Driver.ChipName}' failed", Marshal.GetLastPInvokeError());
            }
        }
    }

    private sealed class EdgeLine(LibgpiodDriver driver, nint line, int offset) : RequestedLine(driver, line, offset), IGpioEdgeLine
    {
        public bool Read()
        {
            var value = Libgpiod.gpiod_line_get_value(Line);
            return value >= 0
                ? value == 1
                : throw new GpioException($"Reading GPIO line {Offset} on chip '{Driver.ChipName}' failed", Marshal.GetLastPInvokeError());
        }

        public unsafe bool TryWaitForEdge(TimeSpan timeout, out GpioEdgeEvent edge)
        {
            edge = default;
            var limit = Timespec.From(timeout);
            var waited = Libgpiod.gpiod_line_event_wait(Line, &limit);
            if (waited == 0)
            {
                return false;
            }

            GpiodLineEvent raw;
            if (waited < 0 || Libgpiod.gpiod_line_event_read(Line, &raw) != 0)
            {
                throw new GpioException($"Waiting for an edge on GPIO line {Offset} of chip '{Driver.ChipName}' failed", Marshal.GetLastPInvokeError());
            }

            var ticks = (long)raw.Timestamp.Seconds * TimeSpan.TicksPerSecond + (long)raw.Timestamp.Nanoseconds / 100;
            edge = new GpioEdgeEvent(raw.EventType == Libgpiod.LineEventRisingEdge ? GpioEdge.Rising : GpioEdge.Falling, TimeSpan.FromTicks(ticks));
            return true;
        }
    }
}
