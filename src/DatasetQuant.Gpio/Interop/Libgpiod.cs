using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using DatasetQuant.Native;

namespace DatasetQuant.Gpio.Interop;

/// <summary>
/// The libgpiod v1 C API (1.6.x: Debian 12, Raspberry Pi OS Bookworm and JetPack 6 ship it as libgpiod.so.2).
/// Lines belong to their chip: they are never freed, only released, and closing the chip releases them all.
/// </summary>
internal static partial class Libgpiod
{
    public const string Library = "gpiod";

    /// <summary><c>GPIOD_LINE_EVENT_RISING_EDGE</c> in v1.6 (the enum starts at 1).</summary>
    public const int LineEventRisingEdge = 1;

    /// <summary><c>GPIOD_LINE_EVENT_FALLING_EDGE</c>.</summary>
    public const int LineEventFallingEdge = 2;

#pragma warning disable CA2255 // A module initializer is how every binding registers with the resolver before its first call.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void RegisterLibrary() =>
        NativeLibraryResolver.Register(typeof(Libgpiod).Assembly, KnownNativeLibraries.Gpiod);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint gpiod_chip_open(string path);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint gpiod_chip_open_by_name(string name);

    /// <summary>Scans /dev for the chip whose label matches; NULL with errno ENOENT when none does.</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint gpiod_chip_open_by_label(string label);

    [LibraryImport(Library)]
    public static partial void gpiod_chip_close(nint chip);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint gpiod_chip_get_line(nint chip, uint offset);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int gpiod_line_request_output(nint line, string consumer, int defaultValue);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int gpiod_line_request_input(nint line, string consumer);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int gpiod_line_request_both_edges_events(nint line, string consumer);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int gpiod_line_set_value(nint line, int value);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int gpiod_line_get_value(nint line);

    /// <returns>0 on timeout, 1 when an event is pending, -1 on error (errno set).</returns>
    [LibraryImport(Library, SetLastError = true)]
    public static unsafe partial int gpiod_line_event_wait(nint line, Timespec* timeout);

    [LibraryImport(Library, SetLastError = true)]
    public static unsafe partial int gpiod_line_event_read(nint line, GpiodLineEvent* gpioEvent);

    [LibraryImport(Library)]
    public static partial void gpiod_line_release(nint line);

    /// <summary>A static string owned by the library; never freed.</summary>
    [LibraryImport(Library)]
    public static partial nint gpiod_version_string();
}

/// <summary><c>struct timespec</c>: both fields are C <c>long</c>, pointer-sized on Linux.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Timespec
{
    public nint Seconds;
    public nint Nanoseconds;

    public static Timespec From(TimeSpan span)
    {
        var ticks = Math.Max(0, span.Ticks);
        return new Timespec
        {
            Seconds = (nint)(ticks / TimeSpan.TicksPerSecond),
            Nanoseconds = (nint)(ticks % TimeSpan.TicksPerSecond * 100),
        };
    }
}

/// <summary>
/// <c>struct gpiod_line_event</c>. 1.6.x has <c>ts</c> and <c>event_type</c>; some 1.6 builds append <c>offset</c>.
/// The library writes at most its own size, so the larger layout is safe to hand to either.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct GpiodLineEvent
{
    public Timespec Timestamp;
    public int EventType;
    public int Offset;
}
