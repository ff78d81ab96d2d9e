namespace DatasetQuant.Gpio;

/// <summary>One repeating blink pattern: the LED is on or off for each step's duration, then the steps repeat.</summary>
public sealed class LedPattern
{
    private LedPattern(string name, params (bool On, int Milliseconds)[] steps)
    {
        Name = name;
        Steps = [.. steps.Select(s => (s.On, TimeSpan.FromMilliseconds(s.Milliseconds)))];
    }

    public string Name { get; }

    public IReadOnlyList<(bool On, TimeSpan Duration)> Steps { get; }

    /// <summary>A short blink every two seconds: alive, nothing to do.</summary>
    public static LedPattern Idle { get; } = new("idle", (true, 100), (false, 1900));

    /// <summary>Even 2 Hz blinking while data moves.</summary>
    public static LedPattern Syncing { get; } = new("syncing", (true, 250), (false, 250));

    /// <summary>Mostly on, with a short dip each second, while fine-tuning.</summary>
    public static LedPattern Training { get; } = new("training", (true, 900), (false, 100));

    /// <summary>A fast double flash: needs attention (see the journal).</summary>
    public static LedPattern Error { get; } = new("error", (true, 100), (false, 100), (true, 100), (false, 700));

    public static LedPattern For(DeviceStatus status) => status switch
    {
        DeviceStatus.Syncing => Syncing,
        DeviceStatus.Training => Training,
        DeviceStatus.Error => Error,
        _ => Idle,
    };
}
