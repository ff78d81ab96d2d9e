using System.Text.RegularExpressions;
using DatasetQuant.Native;

namespace DatasetQuant.Gpio.Tests;

/// <summary>The real libgpiod: these machines have the library but no GPIO chip, so the failures are the real ones.</summary>
public sealed class LibgpiodDriverTests
{
    [Fact]
    public void Library_loads_and_reports_a_v1_version()
    {
        var version = LibgpiodDriver.LibraryVersion;

        Assert.Matches(new Regex(@"^1\.\d+(\.\d+)?"), version);
        Assert.NotNull(NativeLibraryResolver.LoadedFrom(KnownNativeLibraries.Gpiod));
    }

    [Fact]
    public void Opening_a_missing_chip_by_name_names_the_chip_and_the_errno()
    {
        var ex = Assert.Throws<GpioException>(() => LibgpiodDriver.Open("gpiochip917"));

        Assert.Contains("'gpiochip917'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("/dev/gpiochip917", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, ex.Errno); // ENOENT
    }

    [Fact]
    public void Opening_a_device_that_is_not_a_gpio_chip_is_refused_by_libgpiod()
    {
        var ex = Assert.Throws<GpioException>(() => LibgpiodDriver.Open("/dev/null"));

        Assert.Contains("'/dev/null'", ex.Message, StringComparison.Ordinal);
        Assert.NotEqual(0, ex.Errno);
    }

    [Fact]
    public void Opening_by_a_label_no_chip_has_names_the_label()
    {
        var ex = Assert.Throws<GpioException>(() => LibgpiodDriver.Open("label:dq-no-such-label"));

        Assert.Contains("'label:dq-no-such-label'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("label", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_gpio_chip_present_opens_and_refuses_a_line_it_does_not_have()
    {
        var chips = Directory.Exists("/dev") ? Directory.GetFiles("/dev", "gpiochip*") : [];
        foreach (var chip in chips)
        {
            using var driver = LibgpiodDriver.Open(chip);
            var ex = Assert.Throws<GpioException>(() => driver.OpenOutput(100_000, false));
            Assert.Contains("100000", ex.Message, StringComparison.Ordinal);
        }
    }
}
