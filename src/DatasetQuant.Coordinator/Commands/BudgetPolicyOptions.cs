using System.CommandLine;
using System.CommandLine.Parsing;
using DatasetQuant.Coordinator.Planning;

namespace DatasetQuant.Coordinator.Commands;

/// <summary>The fleet budget policy as <c>serve</c> options.</summary>
internal sealed class BudgetPolicyOptions
{
    private static readonly BudgetPolicy Defaults = new();

    public Option<double> Fraction { get; } = new("--budget-fraction")
    {
        Description = "Share of each device's available flash (free + already held) that datasets may use.",
        HelpName = "0..1",
        DefaultValueFactory = _ => Defaults.FractionOfAvailable,
    };

    public Option<long> Min { get; } = SizeOption("--budget-min", "Smallest budget a device gets (if it has that much flash).", Defaults.MinBytes);

    public Option<long> Max { get; } = SizeOption("--budget-max", "Largest budget any device gets.", Defaults.MaxBytes);

    public Option<long> Granularity { get; } = SizeOption("--budget-step", "Budgets are multiples of this.", Defaults.GranularityBytes);

    public Option<double> Hysteresis { get; } = new("--budget-hysteresis")
    {
        Description = "Keep a device's budget while the new figure is within this fraction of it.",
        HelpName = "0..1",
        DefaultValueFactory = _ => Defaults.Hysteresis,
    };

    public Option<string[]> BoardCaps { get; } = new("--board-cap")
    {
        Description = "Per-board cap, BOARD=SIZE (repeatable), e.g. rpi-zero-2w=256MiB.",
        HelpName = "BOARD=SIZE",
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<string[]> DeviceBoards { get; } = new("--device-board")
    {
        Description = "Which board a device is, PATTERN=BOARD (repeatable; a trailing * matches any suffix), e.g. zero-*=rpi-zero-2w.",
        HelpName = "PATTERN=BOARD",
    };

    public IEnumerable<Option> All => [Fraction, Min, Max, Granularity, Hysteresis, BoardCaps, DeviceBoards];

    public BudgetPolicy Read(ParseResult parseResult)
    {
        var caps = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
        foreach (var cap in parseResult.GetValue(BoardCaps) ?? [])
        {
            var equals = cap.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || !ByteSize.TryParse(cap[(equals + 1)..], out var bytes))
            {
                throw new ArgumentException($"--board-cap '{cap}' is not BOARD=SIZE (for example rpi-zero-2w=256MiB).");
            }

            caps[cap[..equals]] = bytes;
        }

        var policy = new BudgetPolicy
        {
            FractionOfAvailable = parseResult.GetValue(Fraction),
            MinBytes = parseResult.GetValue(Min),
            MaxBytes = parseResult.GetValue(Max),
            GranularityBytes = parseResult.GetValue(Granularity),
            Hysteresis = parseResult.GetValue(Hysteresis),
            BoardCaps = caps,
        };
        policy.Validate();
        return policy;
    }

    private static Option<long> SizeOption(string name, string description, long defaultBytes) => new(name)
    {
        Description = $"{description} Sizes take B, KiB, MiB, GiB, KB, MB, GB.",
        HelpName = "SIZE",
        DefaultValueFactory = _ => defaultBytes,
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (ByteSize.TryParse(text, out var bytes))
            {
                return bytes;
            }

            result.AddError($"{name}: '{text}' is not a size (for example 512MiB or 2GB).");
            return 0;
        },
    };
}
