using DatasetQuant.Agent.Configuration;
using DatasetQuant.Gpio;
using DatasetQuant.Sync.Device;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Agent.Tests;

/// <summary>Every board config in device-configs/ loads, binds and passes the same checks the agent runs at start.</summary>
public sealed class DeviceConfigTests
{
    private static readonly string ConfigDirectory = Path.Combine(AppContext.BaseDirectory, "device-configs");

    private static readonly string[] BoardNames = ["rpi-zero-2w", "rpi-4", "rpi-5", "jetson-orin-nano", "dev-x64"];

    public static TheoryData<string> Boards() => new(BoardNames);

    private static IServiceProvider Load(string file, Dictionary<string, string?>? overrides = null)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(file, optional: false)
            .AddInMemoryCollection(overrides ?? new Dictionary<string, string?> { ["Sync:DeviceId"] = "board-under-test" })
            .Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAgentOptions(configuration);

        // The sync library's shape checks, without the start-time check that the named files exist on this machine.
        services.AddOptions<DeviceSyncOptions>().Bind(configuration.GetSection(DeviceSyncOptions.SectionName));
        services.AddSingleton<IValidateOptions<DeviceSyncOptions>, DeviceSyncOptionsValidator>();
        services.AddOptions<GpioOptions>().Bind(configuration.GetSection(GpioOptions.SectionName));
        services.AddSingleton<IValidateOptions<GpioOptions>, GpioOptionsValidator>();
        return services.BuildServiceProvider();
    }

    [Fact]
    public void The_directory_holds_exactly_the_five_boards()
    {
        var files = Directory.GetFiles(ConfigDirectory, "*.json").Select(Path.GetFileNameWithoutExtension).Order().ToArray();

        Assert.Equal(BoardNames.Order().ToArray(), files);
    }

    [Theory]
    [MemberData(nameof(Boards))]
    public void Loads_and_validates(string board)
    {
        var services = Load(Path.Combine(ConfigDirectory, board + ".json"));

        var failures = AgentHost.ValidateOptions(services);

        Assert.Empty(failures);
        var device = services.GetRequiredService<IOptions<DeviceOptions>>().Value;
        var sync = services.GetRequiredService<IOptions<DeviceSyncOptions>>().Value;
        var onnx = services.GetRequiredService<IOptions<OnnxRuntimeOptions>>().Value;
        var gpio = services.GetRequiredService<IOptions<GpioOptions>>().Value;
        Assert.Equal(board, device.Board);
        Assert.True(device.MemoryLimitBytes >= DeviceOptionsValidator.MinimumMemoryBytes);
        Assert.NotNull(sync.FlashQuotaBytes);
        Assert.False(string.IsNullOrEmpty(gpio.Chip));
        Assert.NotNull(gpio.StatusLedLine);
        Assert.NotNull(gpio.ButtonLine);
        Assert.InRange(onnx.IntraOpThreads, 1, Environment.ProcessorCount * 8);
        if (board == "dev-x64")
        {
            Assert.StartsWith("mqtt://127.0.0.1", sync.BrokerUrl, StringComparison.Ordinal);
        }
        else
        {
            // Boards talk to the fleet broker with mutual TLS only.
            Assert.StartsWith("mqtts://", sync.BrokerUrl, StringComparison.Ordinal);
            Assert.All(new[] { sync.CaFile, sync.CertFile, sync.KeyFile }, f => Assert.StartsWith("/etc/dq-agent/", f, StringComparison.Ordinal));
            Assert.StartsWith("/var/lib/dq-agent", sync.DataDirectory, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("rpi-zero-2w", 4, 512L << 20)]
    [InlineData("rpi-4", 4, 1L << 30)]
    [InlineData("rpi-5", 4, 2L << 30)]
    [InlineData("jetson-orin-nano", 6, 4L << 30)]
    public void A_board_config_states_the_board_and_takes_a_share_of_it(string board, int cores, long memory)
    {
        var services = Load(Path.Combine(ConfigDirectory, board + ".json"));
        var device = services.GetRequiredService<IOptions<DeviceOptions>>().Value;
        var sync = services.GetRequiredService<IOptions<DeviceSyncOptions>>().Value;
        var onnx = services.GetRequiredService<IOptions<OnnxRuntimeOptions>>().Value;

        Assert.Equal(cores, device.Cores);
        Assert.Equal(memory, device.MemoryBytes);
        Assert.InRange(onnx.IntraOpThreads, 1, device.Cores);

        // The OS, the page cache and the broker connection need the rest of RAM; the OS and logs the rest of flash.
        Assert.InRange(device.MemoryLimitBytes, DeviceOptionsValidator.MinimumMemoryBytes, device.MemoryBytes / 2);
        Assert.InRange(sync.FlashQuotaBytes!.Value, 1L << 30, device.FlashBytes * 3 / 4);
    }

    [Fact]
    public void A_memory_limit_above_the_boards_memory_is_refused()
    {
        var failures = AgentHost.ValidateOptions(Load(Path.Combine(ConfigDirectory, "rpi-zero-2w.json"), new Dictionary<string, string?>
        {
            ["Sync:DeviceId"] = "zero-1",
            ["Device:MemoryLimitBytes"] = (1L << 30).ToString(System.Globalization.CultureInfo.InvariantCulture),
        }));

        Assert.Equal(["Device:MemoryLimitBytes is 1073741824, more than the board's Device:MemoryBytes 536870912."], failures);
    }

    [Fact]
    public void Only_the_jetson_asks_for_cuda()
    {
        foreach (var board in BoardNames)
        {
            var onnx = Load(Path.Combine(ConfigDirectory, board + ".json")).GetRequiredService<IOptions<OnnxRuntimeOptions>>().Value;
            Assert.Equal(board == "jetson-orin-nano" ? "cuda" : "cpu", onnx.ExecutionProvider);
        }
    }

    [Fact]
    public void Bad_values_are_reported_field_by_field()
    {
        var services = Load(Path.Combine(ConfigDirectory, "rpi-4.json"), new Dictionary<string, string?>
        {
            ["Sync:DeviceId"] = "pi/4#",
            ["Sync:BrokerUrl"] = "mqtts://broker:8883/fleet",
            ["Sync:KeyFile"] = "",
            ["Sync:FlashQuotaBytes"] = "1000",
            ["Device:MemoryLimitBytes"] = "1048576",
            ["OnnxRuntime:IntraOpThreads"] = "0",
            ["OnnxRuntime:ExecutionProvider"] = "tensorrt",
            ["FineTune:HeldOutFraction"] = "0.9",
            ["Gpio:ButtonDebounceMilliseconds"] = "0",
        });

        var failures = AgentHost.ValidateOptions(services);

        string[] fields =
        [
            "Sync:DeviceId 'pi/4#'", "Sync:BrokerUrl 'mqtts://broker:8883/fleet' has a path", "Sync:KeyFile is required with an mqtts://",
            "Sync:FlashQuotaBytes is 1000", "Device:MemoryLimitBytes is 1048576", "OnnxRuntime:IntraOpThreads is 0",
            "OnnxRuntime:ExecutionProvider is 'tensorrt'", "FineTune:HeldOutFraction is 0.9", "Gpio:ButtonDebounceMilliseconds is 0",
        ];
        foreach (var field in fields)
        {
            Assert.Contains(failures, f => f.StartsWith(field, StringComparison.Ordinal));
        }

        Assert.Equal(fields.Length, failures.Count);
    }

    [Fact]
    public void Plain_mqtt_with_certificates_is_a_contradiction()
    {
        var result = new DeviceSyncOptionsValidator().Validate(null, new DeviceSyncOptions
        {
            BrokerUrl = "mqtt://broker:1883", Fleet = "lab", DeviceId = "pi-1", DataDirectory = "/d", CoordinatorKeyPath = "/k",
            CertFile = "/etc/dq-agent/device.crt",
        });

        Assert.Equal(["Sync:CertFile is set but Sync:BrokerUrl is plain mqtt://; use mqtts:// or remove CertFile."], result.Failures);
    }

    [Fact]
    public void At_start_missing_files_are_named()
    {
        var result = new DeviceSyncFilesValidator().Validate(null, new DeviceSyncOptions
        {
            CoordinatorKeyPath = "/nonexistent/coordinator.pub.pem", CaFile = typeof(DeviceConfigTests).Assembly.Location,
        });

        Assert.Equal(["Sync:CoordinatorKeyPath: file '/nonexistent/coordinator.pub.pem' does not exist or cannot be read."], result.Failures);
    }
}
