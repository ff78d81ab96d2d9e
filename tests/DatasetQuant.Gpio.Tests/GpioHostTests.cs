using System.Device.Gpio;
using DatasetQuant.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Gpio.Tests;

/// <summary>
/// AddGpio inside a real host, the services driving a real <see cref="GpioController"/> over a simulated chip: the LED,
/// the button, lines the chip lacks, and the no-chip path through System.Device.Gpio's libgpiod drivers.
/// </summary>
public sealed class GpioHostTests
{
    private const int Led = 17;
    private const int Button = 27;

    private static IHost BuildHost(Dictionary<string, string?> settings, GpioDriver? driver, CapturingLoggerProvider? logs = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        if (driver is not null)
        {
            builder.Services.AddSingleton(driver);
        }

        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }

        builder.Services.AddGpio(builder.Configuration.GetSection("Gpio"));
        return builder.Build();
    }

    private static Dictionary<string, string?> Lines() => new()
    {
        ["Gpio:Chip"] = "gpiochip0",
        ["Gpio:StatusLedLine"] = Led.ToString(),
        ["Gpio:ButtonLine"] = Button.ToString(),
    };

    [Fact]
    public async Task The_led_follows_the_pattern_of_the_status_and_is_off_after_stop()
    {
        var gpio = new SimulatedGpioChip();
        using var host = BuildHost(Lines(), gpio);
        var status = host.Services.GetRequiredService<DeviceStatusBoard>();
        status.Set(DeviceStatus.Syncing, "receiving");
        await host.StartAsync();

        await WaitUntil(() => gpio.IsOpen(Led) && gpio.WritesTo(Led).Count >= 5);
        Assert.Equal(PinMode.Output, gpio.ModeOf(Led));
        await host.StopAsync();

        // Requested dark, and dark again when the service stopped and released the line.
        var writes = gpio.WritesTo(Led);
        Assert.Equal(PinValue.Low, writes[0].Value);
        Assert.Equal(PinValue.Low, writes[^1].Value);
        Assert.False(gpio.IsOpen(Led));

        // Syncing blinks evenly at 250 ms: values alternate and no step is cut short.
        var steps = writes.Skip(1).SkipLast(1).ToArray();
        for (var i = 1; i < steps.Length; i++)
        {
            Assert.NotEqual(steps[i - 1].Value, steps[i].Value);
            Assert.True(steps[i].At - steps[i - 1].At >= TimeSpan.FromMilliseconds(240), $"step {i} lasted {steps[i].At - steps[i - 1].At}");
        }
    }

    [Fact]
    public async Task A_status_change_switches_the_pattern_at_once()
    {
        var gpio = new SimulatedGpioChip();
        using var host = BuildHost(Lines(), gpio);
        var status = host.Services.GetRequiredService<DeviceStatusBoard>();
        await host.StartAsync();
        await WaitUntil(() => gpio.IsOpen(Led) && gpio.WritesTo(Led).Count >= 3);

        // Idle is on for 100 ms then off for 1.9 s; Error flashes within 100 ms of the change.
        var before = gpio.WritesTo(Led).Count;
        status.Set(DeviceStatus.Error, "disk full");
        await WaitUntil(() => gpio.WritesTo(Led).Count >= before + 4, TimeSpan.FromSeconds(1.5));
        await host.StopAsync();
    }

    [Fact]
    public async Task A_bouncing_button_press_is_reported_once()
    {
        var gpio = new SimulatedGpioChip();
        using var host = BuildHost(Lines(), gpio);
        var button = host.Services.GetRequiredService<GpioButton>();
        var pressed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        button.Pressed += (_, _) => pressed.TrySetResult();
        await host.StartAsync();
        await WaitUntil(() => gpio.ReadsOf(Button) >= 2);

        // A button to ground: the line is pulled up, and a press bounces low-high-low before it holds.
        Assert.Equal(PinMode.InputPullUp, gpio.ModeOf(Button));
        gpio.Drive(Button, PinEventTypes.Falling);
        gpio.Drive(Button, PinEventTypes.Rising);
        gpio.Drive(Button, PinEventTypes.Falling);
        await pressed.Task.WaitAsync(TimeSpan.FromSeconds(5));
        await Task.Delay(100);
        gpio.Drive(Button, PinEventTypes.Rising);
        gpio.Drive(Button, PinEventTypes.Falling);
        gpio.Drive(Button, PinEventTypes.Rising);
        await Task.Delay(200);
        await host.StopAsync();

        Assert.Equal(1, button.PressCount);
        Assert.False(gpio.IsOpen(Button));
    }

    [Fact]
    public async Task Without_a_chip_the_host_runs_after_one_log_line()
    {
        var logs = new CapturingLoggerProvider();
        using var host = BuildHost(
            new Dictionary<string, string?>
            {
                ["Gpio:Chip"] = "gpiochip917",
                ["Gpio:StatusLedLine"] = "17",
                ["Gpio:ButtonLine"] = "27",
            },
            driver: null,
            logs);
        await host.StartAsync();
        Assert.Null(host.Services.GetRequiredService<GpioConnection>().Controller);
        host.Services.GetRequiredService<DeviceStatusBoard>().Set(DeviceStatus.Training, "epoch 1");
        await Task.Delay(100);
        await host.StopAsync();

        var gpioLines = logs.Messages.Where(m => m.Contains("GPIO", StringComparison.Ordinal)).ToArray();
        var line = Assert.Single(gpioLines);
        Assert.Contains("gpiochip917", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_settings_fail_at_start_naming_the_field()
    {
        using var host = BuildHost(
            new Dictionary<string, string?>
            {
                ["Gpio:Driver"] = "sysfs",
                ["Gpio:StatusLedLine"] = "5",
                ["Gpio:ButtonLine"] = "5",
            },
            new SimulatedGpioChip());

        var ex = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<GpioOptions>>().Value);

        Assert.Contains("Gpio:Driver is 'sysfs'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Gpio:ButtonLine and Gpio:StatusLedLine are both 5", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_libgpiod_config_with_lines_but_no_chip_is_refused()
    {
        var result = new GpioOptionsValidator().Validate(null, new GpioOptions { StatusLedLine = 3 });

        Assert.True(result.Failed);
        Assert.Contains("Gpio:Chip is required", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_glitch_shorter_than_the_debounce_interval_is_not_a_press()
    {
        var gpio = new SimulatedGpioChip();
        using var host = BuildHost(new Dictionary<string, string?>(Lines()) { ["Gpio:ButtonDebounceMilliseconds"] = "100" }, gpio);
        var button = host.Services.GetRequiredService<GpioButton>();
        await host.StartAsync();
        await WaitUntil(() => gpio.ReadsOf(Button) >= 2);

        gpio.Drive(Button, PinEventTypes.Falling);
        await Task.Delay(20);
        gpio.Drive(Button, PinEventTypes.Rising);
        await Task.Delay(300);
        await host.StopAsync();

        Assert.Equal(0, button.PressCount);
    }

    [Fact]
    public async Task An_active_high_button_is_pulled_down_or_left_floating_where_the_chip_has_no_bias()
    {
        var settings = new Dictionary<string, string?>(Lines()) { ["Gpio:ButtonActiveLow"] = "false" };
        var withBias = new SimulatedGpioChip();
        var withoutBias = new SimulatedGpioChip(biasSupported: false);
        var modes = new List<PinMode>();
        foreach (var gpio in new[] { withBias, withoutBias })
        {
            using var host = BuildHost(settings, gpio);
            var button = host.Services.GetRequiredService<GpioButton>();
            await host.StartAsync();
            await WaitUntil(() => gpio.ReadsOf(Button) >= 2);
            modes.Add(gpio.ModeOf(Button));

            gpio.Drive(Button, PinEventTypes.Rising);
            await WaitUntil(() => button.PressCount == 1);
            await host.StopAsync();
        }

        Assert.Equal([PinMode.InputPullDown, PinMode.Input], modes);
    }

    [Fact]
    public async Task A_line_the_chip_does_not_have_is_refused_with_one_log_line_and_the_other_line_still_works()
    {
        var logs = new CapturingLoggerProvider();
        var gpio = new SimulatedGpioChip(lineCount: 28);
        using var host = BuildHost(new Dictionary<string, string?>(Lines()) { ["Gpio:StatusLedLine"] = "40" }, gpio, logs);
        var button = host.Services.GetRequiredService<GpioButton>();
        await host.StartAsync();
        await WaitUntil(() => gpio.ReadsOf(Button) >= 2);
        gpio.Drive(Button, PinEventTypes.Falling);
        await WaitUntil(() => button.PressCount == 1);
        await host.StopAsync();

        var refused = Assert.Single(logs.Messages, m => m.StartsWith("Status LED unavailable", StringComparison.Ordinal));
        Assert.Contains("GPIO line 40 is not on the chip, which has lines 0..27", refused, StringComparison.Ordinal);
        Assert.False(gpio.IsOpen(40));
    }

    [Fact]
    public async Task The_controller_and_its_driver_are_disposed_with_the_host()
    {
        var gpio = new SimulatedGpioChip();
        using (var host = BuildHost(Lines(), gpio))
        {
            await host.StartAsync();
            await WaitUntil(() => gpio.IsOpen(Led));
            await host.StopAsync();
        }

        Assert.True(gpio.IsDisposed);
    }

    private static async Task WaitUntil(Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(20);
        }
    }
}

internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly List<string> _messages = [];

    public IReadOnlyList<string> Messages
    {
        get
        {
            lock (_messages)
            {
                return [.. _messages];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(this);

    public void Dispose()
    {
    }

    private sealed class CapturingLogger(CapturingLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (owner._messages)
            {
                owner._messages.Add(formatter(state, exception));
            }
        }
    }
}
