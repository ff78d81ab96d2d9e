namespace DatasetQuant.Coordinator.Hosting;

/// <summary>
/// Which board a device is, from its id: rules like <c>zero-*=rpi-zero-2w</c> (a trailing <c>*</c> matches any
/// suffix), first match wins. The device's state message does not carry its board, so per-board budget caps need
/// this.
/// </summary>
public sealed class DeviceBoardMap
{
    private readonly List<(string Pattern, string Board)> _rules = [];

    public IReadOnlyList<(string Pattern, string Board)> Rules => _rules;

    /// <summary>Parses <c>PATTERN=BOARD</c>; throws <see cref="ArgumentException"/> quoting the rule when malformed.</summary>
    public void Add(string rule)
    {
        var equals = rule.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0 || equals == rule.Length - 1)
        {
            throw new ArgumentException($"device board rule '{rule}' is not PATTERN=BOARD (for example 'zero-*=rpi-zero-2w').");
        }

        var pattern = rule[..equals].Trim();
        if (pattern.IndexOf('*', StringComparison.Ordinal) is var star && star >= 0 && star != pattern.Length - 1)
        {
            throw new ArgumentException($"device board rule '{rule}': '*' may only end the pattern.");
        }

        _rules.Add((pattern, rule[(equals + 1)..].Trim()));
    }

    public string? BoardOf(string deviceId)
    {
        foreach (var (pattern, board) in _rules)
        {
            var matches = pattern.EndsWith('*')
                ? deviceId.AsSpan().StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal)
                : deviceId.Equals(pattern, StringComparison.Ordinal);
            if (matches)
            {
                return board;
            }
        }

        return null;
    }
}
