namespace DatasetQuant.Testing.InMemoryMqtt;

/// <summary>MQTT topic-filter matching: <c>+</c> is one level, <c>#</c> (last) is any number of levels including none.</summary>
public static class MqttTopicFilter
{
    public static bool Matches(string filter, string topic)
    {
        var f = filter.Split('/');
        var t = topic.Split('/');
        for (var i = 0; i < f.Length; i++)
        {
            if (f[i] == "#")
            {
                return i == f.Length - 1;
            }

            if (i >= t.Length)
            {
                return false;
            }

            if (f[i] != "+" && f[i] != t[i])
            {
                return false;
            }
        }

        return f.Length == t.Length;
    }

    public static void Validate(string filter)
    {
        var levels = filter.Split('/');
        for (var i = 0; i < levels.Length; i++)
        {
            var level = levels[i];
            if ((level.Contains('#') && (level != "#" || i != levels.Length - 1)) || (level.Contains('+') && level != "+"))
            {
                throw new ArgumentException($"invalid topic filter '{filter}'", nameof(filter));
            }
        }
    }
}
