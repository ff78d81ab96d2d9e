using System.Device.Gpio;
using System.Device.Gpio.Drivers;
using System.Runtime.InteropServices;

namespace DatasetQuant.Gpio;

/// <summary>
/// Opens the chip a config names with System.Device.Gpio's libgpiod drivers. The package has one driver per libgpiod
/// API (<see cref="LibGpiodDriver"/> for v1, libgpiod.so.2 as Debian 12 and Raspberry Pi OS Bookworm ship it;
/// <see cref="LibGpiodV2Driver"/> for v2, libgpiod.so.3 from Debian 13 on) and no way to ask which one the board
/// has, so the libraries are probed here: v2 when it loads, else v1. Both open chips by number, so a label is
/// looked up among the chips present.
/// </summary>
internal static class LibgpiodChip
{
    private const string V2Library = "libgpiod.so.3";
    private static readonly string[] V1Libraries = ["libgpiod.so.2", "libgpiod.so.1"];

    /// <summary>Opens the chip; throws <see cref="GpioException"/> naming the chip and what is missing.</summary>
    public static (GpioDriver Driver, string Description) Open(string driverKind, string chip)
    {
        if (!GpioChipSpec.TryParse(chip, out var spec))
        {
            throw new GpioException($"GPIO chip '{chip}' is not gpiochipN, /dev/gpiochipN or label:LABEL");
        }

        var hasV2 = CanLoad(V2Library);
        var hasV1 = V1Libraries.Any(CanLoad);
        var useV2 = driverKind switch
        {
            GpioDriverKinds.LibgpiodV1 => false,
            GpioDriverKinds.LibgpiodV2 => true,
            _ => hasV2,
        };
        var library = useV2 ? $"{V2Library} (libgpiod v2)" : $"{V1Libraries[0]} (libgpiod v1)";
        if (driverKind == GpioDriverKinds.Libgpiod && !hasV2 && !hasV1)
        {
            throw new GpioException($"GPIO chip '{chip}': libgpiod is not installed, neither {V2Library} nor {V1Libraries[0]} loads (apt-get install libgpiod3, or libgpiod2 before Debian 13)");
        }

        if (!(useV2 ? hasV2 : hasV1))
        {
            throw new GpioException($"GPIO chip '{chip}': {library} is not installed (apt-get install {(useV2 ? "libgpiod3" : "libgpiod2")})");
        }

        try
        {
            var chips = useV2 ? LibGpiodV2Driver.GetAvailableChips() : LibGpiodDriver.GetAvailableChips();
            var found = chips.FirstOrDefault(spec.Value.Matches) ?? throw NotFound(chip, spec.Value, chips);
            var api = useV2 ? $"libgpiod API {LibGpiodV2Driver.GetApiVersion()}" : "libgpiod v1";
            GpioDriver driver = useV2 ? new LibGpiodV2Driver(found.Id) : new LibGpiodDriver(found.Id);
            return (driver, $"{api}, {found.Name} '{found.Label}' ({found.NumLines} lines)");
        }
        catch (Exception ex) when (ex is IOException or GpiodException or PlatformNotSupportedException or TypeInitializationException
                                       or UnauthorizedAccessException && ex is not GpioException)
        {
            throw new GpioException($"GPIO chip '{chip}' could not be opened with {library}: {Innermost(ex).Message}", ex);
        }
    }

    private static bool CanLoad(string library)
    {
        if (!NativeLibrary.TryLoad(library, out var handle))
        {
            return false;
        }

        NativeLibrary.Free(handle);
        return true;
    }

    /// <summary>
    /// The drivers list only the chips they could open, so a chip node that is there but not readable (the service's
    /// user lacks the gpio group) would otherwise be reported as missing.
    /// </summary>
    private static GpioException NotFound(string chip, GpioChipSpec spec, IList<GpioChipInfo> chips) =>
        spec.Number is int number && File.Exists($"/dev/gpiochip{number}")
            ? new GpioException($"GPIO chip '{chip}': /dev/gpiochip{number} is there but could not be opened (access rights: the user needs the gpio group)")
            : new GpioException($"GPIO chip '{chip}' is not present; chips here: {Describe(chips)}");

    private static string Describe(IList<GpioChipInfo> chips) =>
        chips.Count == 0 ? "none" : string.Join(", ", chips.Select(c => $"{c.Name} '{c.Label}'"));

    private static Exception Innermost(Exception ex) => ex.InnerException is { } inner ? Innermost(inner) : ex;
}
