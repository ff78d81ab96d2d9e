using Microsoft.Extensions.Options;

namespace DatasetQuant.Agent.Configuration;

/// <summary>Checks the <c>Device</c> section.</summary>
public sealed class DeviceOptionsValidator : IValidateOptions<DeviceOptions>
{
    public const long MinimumMemoryBytes = 32L << 20;

    public ValidateOptionsResult Validate(string? name, DeviceOptions options)
    {
        var failures = new List<string>();
        const string S = DeviceOptions.SectionName;
        if (string.IsNullOrWhiteSpace(options.Board))
        {
            failures.Add($"{S}:Board is required (rpi-zero-2w, rpi-4, rpi-5, jetson-orin-nano, dev-x64 or your own).");
        }

        if (options.MemoryLimitBytes < MinimumMemoryBytes)
        {
            failures.Add($"{S}:MemoryLimitBytes is {options.MemoryLimitBytes}; the agent needs at least {MinimumMemoryBytes} (32 MiB).");
        }
        else if (options.MemoryBytes > 0 && options.MemoryLimitBytes > options.MemoryBytes)
        {
            failures.Add($"{S}:MemoryLimitBytes is {options.MemoryLimitBytes}, more than the board's {S}:MemoryBytes {options.MemoryBytes}.");
        }

        if (options.Cores < 0 || options.MemoryBytes < 0 || options.FlashBytes < 0)
        {
            failures.Add($"{S}:Cores, {S}:MemoryBytes and {S}:FlashBytes are counts: 0 (not stated) or more.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Checks the <c>OnnxRuntime</c> section.</summary>
public sealed class OnnxRuntimeOptionsValidator : IValidateOptions<OnnxRuntimeOptions>
{
    public ValidateOptionsResult Validate(string? name, OnnxRuntimeOptions options)
    {
        var failures = new List<string>();
        const string S = OnnxRuntimeOptions.SectionName;
        if (options.IntraOpThreads is < 1 or > 64)
        {
            failures.Add($"{S}:IntraOpThreads is {options.IntraOpThreads}; use 1..64.");
        }

        if (options.InterOpThreads is < 1 or > 16)
        {
            failures.Add($"{S}:InterOpThreads is {options.InterOpThreads}; use 1..16.");
        }

        if (options.ExecutionProvider is not (OnnxExecutionProviders.Cpu or OnnxExecutionProviders.Cuda))
        {
            failures.Add($"{S}:ExecutionProvider is '{options.ExecutionProvider}'; use cpu or cuda.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Checks the <c>FineTune</c> section.</summary>
public sealed class FineTuneOptionsValidator : IValidateOptions<FineTuneOptions>
{
    public ValidateOptionsResult Validate(string? name, FineTuneOptions options)
    {
        var failures = new List<string>();
        const string S = FineTuneOptions.SectionName;
        if (options.MinimumIntervalSeconds is < 0 or > 86_400)
        {
            failures.Add($"{S}:MinimumIntervalSeconds is {options.MinimumIntervalSeconds}; use 0..86400.");
        }

        if (options.Epochs is < 1 or > 100)
        {
            failures.Add($"{S}:Epochs is {options.Epochs}; use 1..100.");
        }

        if (!(options.HeldOutFraction > 0 && options.HeldOutFraction <= 0.5))
        {
            failures.Add($"{S}:HeldOutFraction is {options.HeldOutFraction}; use a fraction above 0 and at most 0.5.");
        }

        if (options.SyntheticRatio is { } ratio && !(ratio >= 0 && ratio < 1))
        {
            failures.Add($"{S}:SyntheticRatio is {options.SyntheticRatio}; use a fraction from 0 up to (not including) 1.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
