using System.Runtime.InteropServices;

namespace DatasetQuant.Gpio.Tests;

/// <summary>
/// Chips as configs name them, and System.Device.Gpio's real libgpiod drivers on a machine with no GPIO chip: what
/// is asserted depends on which libgpiod this machine has, and each case is checked against the real failure.
/// </summary>
public sealed class LibgpiodChipTests
{
    private static bool CanLoad(string library)
    {
        if (!NativeLibrary.TryLoad(library, out var handle))
        {
            return false;
        }

        NativeLibrary.Free(handle);
        return true;
    }

    [Theory]
    [InlineData("gpiochip0", 0, null)]
    [InlineData("gpiochip4", 4, null)]
    [InlineData("/dev/gpiochip12", 12, null)]
    [InlineData("label:pinctrl-rp1", null, "pinctrl-rp1")]
    [InlineData("label:tegra234-gpio", null, "tegra234-gpio")]
    public void A_chip_is_named_by_number_device_path_or_label(string text, int? number, string? label)
    {
        Assert.True(GpioChipSpec.TryParse(text, out var spec));
        Assert.Equal(new GpioChipSpec(number, label), spec);
    }

    [Theory]
    [InlineData("")]
    [InlineData("gpiochip")]
    [InlineData("gpiochip-1")]
    [InlineData("/dev/null")]
    [InlineData("/sys/class/gpio/gpiochip0")]
    [InlineData("label:")]
    [InlineData("pinctrl-rp1")]
    public void Anything_else_is_refused_by_the_validator_naming_the_field(string text)
    {
        Assert.False(GpioChipSpec.TryParse(text, out _));
        var result = new GpioOptionsValidator().Validate(null, new GpioOptions { Chip = text, StatusLedLine = 17 });

        Assert.True(result.Failed);
        Assert.Contains("Gpio:Chip", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_chip_that_is_not_there_is_named_with_what_is_missing()
    {
        var hasV1 = CanLoad("libgpiod.so.2") || CanLoad("libgpiod.so.1");
        var hasV2 = CanLoad("libgpiod.so.3");
        var present = Directory.Exists("/dev") ? Directory.GetFiles("/dev", "gpiochip*") : [];

        var ex = Assert.Throws<GpioException>(() => LibgpiodChip.Open(GpioDriverKinds.Libgpiod, "label:dq-no-such-label"));

        Assert.StartsWith("GPIO chip 'label:dq-no-such-label'", ex.Message, StringComparison.Ordinal);
        if (!hasV1 && !hasV2)
        {
            Assert.Contains("libgpiod is not installed", ex.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains("is not present; chips here: ", ex.Message, StringComparison.Ordinal);
            Assert.Equal(present.Length == 0, ex.Message.EndsWith("chips here: none", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData(GpioDriverKinds.LibgpiodV1, "libgpiod.so.2")]
    [InlineData(GpioDriverKinds.LibgpiodV2, "libgpiod.so.3")]
    public void Insisting_on_a_libgpiod_version_names_its_library_when_it_is_missing(string driver, string library)
    {
        var installed = library == "libgpiod.so.2" ? CanLoad(library) || CanLoad("libgpiod.so.1") : CanLoad(library);

        var ex = Assert.Throws<GpioException>(() => LibgpiodChip.Open(driver, "gpiochip917"));

        Assert.StartsWith("GPIO chip 'gpiochip917'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(installed ? "is not present" : $"{library} (libgpiod v", ex.Message, StringComparison.Ordinal);
    }
}
