using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Gpio.Tests;

/// <summary>AddGpio inside a real host: the LED service, the button service and the no-chip path.</summary>
public sealed class GpioHostTests
{
    private const int Led = 17;
    private const int Button = 27;

    private static IHost BuildHost(Dictionary<string, string?> settings, IGpioDriver? driver, CapturingLoggerProvider? logs = null)
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
        ["Gpio:Driver"] = "simulated",
        ["Gpio:StatusLedLine"] = Led.ToString(),
        ["Gpio:ButtonLine"] = Button.ToString(),
    };

    [Fact]
    public async Task The_led_follows_the_pattern_of_the_status_and_is_off_after_stop()
    {
        using var gpio = new SimulatedGpioDriver();
        using var host = BuildHost(Lines(), gpio);
        var status = host.Services.GetRequiredService<DeviceStatusBoard>();
        status.Set(DeviceStatus.Syncing, "receiving");
        await host.StartAsync();

        await WaitUntil(() => gpio.IsRequested(Led) && gpio.Output(Led).Writes.Count >= 5);
        await host.StopAsync();

        var writes = gpio.Output(Led).Writes;
        Assert.False(writes[^1].Value);

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
        using var gpio = new SimulatedGpioDriver();
        using var host = BuildHost(Lines(), gpio);
        var status = host.Services.GetRequiredService<DeviceStatusBoard>();
        await host.StartAsync();
        await WaitUntil(() => gpio.IsRequested(Led) && gpio.Output(Led).Writes.Count >= 3);

        // Idle is on for 100 ms then off for 1.9 s; Error flashes within 100 ms of the change.
        var before = gpio.Output(Led).Writes.Count;
        status.Set(DeviceStatus.Error, "disk full");
        await WaitUntil(() => gpio.Output(Led).Writes.Count >= before + 4, TimeSpan.FromSeconds(1.5));
        await host.StopAsync();
    }

    [Fact]
    public async Task A_bouncing_button_press_is_reported_once()
    {
        using var gpio = new SimulatedGpioDriver();
        using var host = BuildHost(Lines(), gpio);
        var button = host.Services.GetRequiredService<GpioButton>();
        var pressed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        button.Pressed += (_, _) => pressed.TrySetResult();
        await host.StartAsync();
        await WaitUntil(() => gpio.IsRequested(Button));

        var line = gpio.Input(Button);
        line.Inject(GpioEdge.Falling, TimeSpan.FromMilliseconds(0));
        line.Inject(GpioEdge.Rising, TimeSpan.FromMilliseconds(1));
        line.Inject(GpioEdge.Falling, TimeSpan.FromMilliseconds(2));
        await pressed.Task.WaitAsync(TimeSpan.FromSeconds(5));
        line.Inject(GpioEdge.Rising, TimeSpan.FromMilliseconds(500));
        line.Inject(GpioEdge.Falling, TimeSpan.FromMilliseconds(501));
        line.Inject(GpioEdge.Rising, TimeSpan.FromMilliseconds(502));
        await Task.Delay(200);
        await host.StopAsync();

        Assert.Equal(1, button.PressCount);
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
        Assert.Null(host.Services.GetRequiredService<GpioConnection>().Driver);
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
            new SimulatedGpioDriver());

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
