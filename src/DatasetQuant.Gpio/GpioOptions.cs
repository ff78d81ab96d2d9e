using Microsoft.Extensions.Options;

namespace DatasetQuant.Gpio;

/// <summary>The <c>Gpio</c> section of a device config.</summary>
public sealed class GpioOptions
{
    public const string SectionName = "Gpio";

    /// <summary><c>libgpiod</c> (the board's chip), <c>simulated</c> (in memory) or <c>none</c>.</summary>
    public string Driver { get; set; } = GpioDriverKinds.Libgpiod;

    /// <summary>Chip name under /dev (<c>gpiochip0</c>; <c>gpiochip4</c> on a Pi 5) or a full path.</summary>
    public string? Chip { get; set; }

    /// <summary>Line offset of the status LED on <see cref="Chip"/>; null for no LED.</summary>
    public int? StatusLedLine { get; set; }

    /// <summary>True when the LED lights with the line low (wired to 3V3 through the LED).</summary>
    public bool StatusLedActiveLow { get; set; }

    /// <summary>Line offset of the fine-tune button; null for no button.</summary>
    public int? ButtonLine { get; set; }

    /// <summary>True when pressing pulls the line low (button to ground, pull-up), the usual wiring.</summary>
    public bool ButtonActiveLow { get; set; } = true;

    public int ButtonDebounceMilliseconds { get; set; } = 30;
}

public static class GpioDriverKinds
{
    public const string Libgpiod = "libgpiod";
    public const string Simulated = "simulated";
    public const string None = "none";
}

/// <summary>Checks a <see cref="GpioOptions"/>; each failure names the field as it is written in the config.</summary>
public sealed class GpioOptionsValidator : IValidateOptions<GpioOptions>
{
    public ValidateOptionsResult Validate(string? name, GpioOptions options)
    {
        var failures = new List<string>();
        const string S = GpioOptions.SectionName;
        if (options.Driver is not (GpioDriverKinds.Libgpiod or GpioDriverKinds.Simulated or GpioDriverKinds.None))
        {
            failures.Add($"{S}:Driver is '{options.Driver}'; use libgpiod, simulated or none.");
        }

        var usesLines = options.StatusLedLine is not null || options.ButtonLine is not null;
        if (options.Driver == GpioDriverKinds.Libgpiod && usesLines && string.IsNullOrWhiteSpace(options.Chip))
        {
            failures.Add($"{S}:Chip is required when StatusLedLine or ButtonLine is set (for example gpiochip0).");
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
