namespace DatasetQuant.Mqtt;

/// <summary>Checks topic names and filters before they reach the wire, so a bad one fails with its name in the message.</summary>
public static class MqttTopics
{
    /// <summary>A topic name to publish to: non-empty, no wildcards.</summary>
    public static bool IsValidName(string? topic) =>
        !string.IsNullOrEmpty(topic) && topic.AsSpan().IndexOfAny('+', '#') < 0;

    /// <summary>
    /// A topic filter: <c>+</c> stands alone in its level, <c>#</c> stands alone in the last level. Shared
    /// subscriptions (<c>$share/{group}/{filter}</c>) follow the same rules.
    /// </summary>
    public static bool IsValidFilter(string? filter)
    {
        if (string.IsNullOrEmpty(filter))
        {
            return false;
        }

        var levels = filter.Split('/');
        for (var i = 0; i < levels.Length; i++)
        {
            var level = levels[i];
            if (level.Contains('#', StringComparison.Ordinal) && (level != "#" || i != levels.Length - 1))
            {
                return false;
            }

            if (level.Contains('+', StringComparison.Ordinal) && level != "+")
            {
                return false;
            }
        }

        return true;
    }
}
