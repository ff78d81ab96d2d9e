using Microsoft.Extensions.Options;

namespace DatasetQuant.Gpio;

/// <summary>The <c>Gpio</c> section of a device config.</summary>
public sealed class GpioOptions
{
    public const string SectionName = "Gpio";

    /// <summary>
    /// <c>libgpiod</c> (the board's chip through whichever libgpiod the board has: the v2 API, libgpiod.so.3, when
    /// present, else v1, libgpiod.so.2), <c>libgpiod-v1</c> or <c>libgpiod-v2</c> to insist on one, or <c>none</c>.
    /// </summary>
    public string Driver { get; set; } = GpioDriverKinds.Libgpiod;

    /// <summary>
    /// The chip: <c>gpiochip0</c>, <c>/dev/gpiochip4</c>, or <c>label:pinctrl-rp1</c> for a chip whose number changes
    /// between kernels.
    /// </summary>
    public string? Chip { get; set; }

    /// <summary>Line offset of the status LED on <see cref="Chip"/>; null for no LED.</summary>
    public int? StatusLedLine { get; set; }

    /// <summary>True when the LED lights with the line low (wired to 3V3 through the LED).</summary>
    public bool StatusLedActiveLow { get; set; }

    /// <summary>Line offset of the fine-tune button; null for no button.</summary>
    public int? ButtonLine { get; set; }

    /// <summary>
    /// True when pressing pulls the line low (button to ground), the usual wiring: the line is then requested with
    /// the chip's pull-up, and with its pull-down when false, where the chip and libgpiod can set a bias.
    /// </summary>
    public bool ButtonActiveLow { get; set; } = true;

    public int ButtonDebounceMilliseconds { get; set; } = 30;
}

public static class GpioDriverKinds
{
    public const string Libgpiod = "libgpiod";
    public const string LibgpiodV1 = "libgpiod-v1";
    public const string LibgpiodV2 = "libgpiod-v2";
    public const string None = "none";
}

/// <summary>Checks a <see cref="GpioOptions"/>; each failure names the field as it is written in the config.</summary>
public sealed class GpioOptionsValidator : IValidateOptions<GpioOptions>
{
    public ValidateOptionsResult Validate(string? name, GpioOptions options)
    {
        var failures = new List<string>();
        const string S = GpioOptions.SectionName;
        if (options.Driver is not (GpioDriverKinds.Libgpiod or GpioDriverKinds.LibgpiodV1 or GpioDriverKinds.LibgpiodV2 or GpioDriverKinds.None))
        {
            failures.Add($"{S}:Driver is '{options.Driver}'; use libgpiod, libgpiod-v1, libgpiod-v2 or none.");
        }

        var usesLines = options.StatusLedLine is not null || options.ButtonLine is not null;
        if (options.Driver != GpioDriverKinds.None && usesLines)
        {
            if (string.IsNullOrWhiteSpace(options.Chip))
            {
                failures.Add($"{S}:Chip is required when StatusLedLine or ButtonLine is set (for example gpiochip0).");
            }
            else if (!GpioChipSpec.TryParse(options.Chip, out _))
            {
                failures.Add($"{S}:Chip is '{options.Chip}'; use gpiochipN, /dev/gpiochipN or label:LABEL.");
            }
        }

        if (options.StatusLedLine is < 0 or > 1023)
        {
            failures.Add($"{S}:StatusLedLine is {options.StatusLedLine}; a line offset is 0..1023.");
        }

        if (options.ButtonLine is < 0 or > 1023)
        {
            failures.Add($"{S}:ButtonLine is {options.ButtonLine}; a line offset is 0..1023.");
        }

        if (options.StatusLedLine is not null && options.StatusLedLine == options.ButtonLine)
        {
            failures.Add($"{S}:ButtonLine and {S}:StatusLedLine are both {options.ButtonLine}; they must be different lines.");
        }

        if (options.ButtonDebounceMilliseconds is < 1 or > 1000)
        {
            failures.Add($"{S}:ButtonDebounceMilliseconds is {options.ButtonDebounceMilliseconds}; use 1..1000.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
