using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace DatasetQuant.Gpio;

/// <summary>
/// The chip a config names: by number (<c>gpiochip0</c>, <c>/dev/gpiochip0</c>) or by label (<c>label:pinctrl-rp1</c>).
/// System.Device.Gpio's libgpiod drivers open chips by number, so a label is looked up among the chips present.
/// </summary>
public readonly record struct GpioChipSpec(int? Number, string? Label)
{
    private const string LabelPrefix = "label:";
    private const string DevicePrefix = "/dev/";
    private const string NamePrefix = "gpiochip";

    public static bool TryParse(string? text, [NotNullWhen(true)] out GpioChipSpec? spec)
    {
        spec = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        if (text.StartsWith(LabelPrefix, StringComparison.Ordinal))
        {
            var label = text[LabelPrefix.Length..];
            spec = label.Length > 0 ? new GpioChipSpec(null, label) : null;
            return spec is not null;
        }

        var name = text.StartsWith(DevicePrefix, StringComparison.Ordinal) ? text[DevicePrefix.Length..] : text;
        if (name.StartsWith(NamePrefix, StringComparison.Ordinal) &&
            int.TryParse(name.AsSpan(NamePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            spec = new GpioChipSpec(number, null);
            return true;
        }

        return false;
    }

    /// <summary>Whether <paramref name="chip"/> (as System.Device.Gpio lists it) is the one meant.</summary>
    public bool Matches(System.Device.Gpio.GpioChipInfo chip) =>
        Label is not null ? string.Equals(chip.Label, Label, StringComparison.Ordinal) : chip.Id == Number;
}
