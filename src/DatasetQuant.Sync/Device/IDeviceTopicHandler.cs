using DatasetQuant.Mqtt;

namespace DatasetQuant.Sync.Device;

/// <summary>
/// Receives messages on topics of the host's own (for example the device's command topic) over the sync session, so
/// that a device keeps one MQTT connection: one MQTT client, one socket, one TLS context. Register any
/// number as singletons. The engine subscribes to <see cref="Topics"/> with every session it runs, after its own
/// topics, and the session re-subscribes after a reconnect.
/// </summary>
public interface IDeviceTopicHandler
{
    /// <summary>Exact topics (no <c>+</c> or <c>#</c>), read once when the engine is created; empty for none.</summary>
    IReadOnlyList<string> Topics { get; }

    /// <summary>
    /// Called on the sync loop for each message on one of <see cref="Topics"/>. Must return quickly (queue the work);
    /// an exception it throws is logged and the message dropped. The message is disposed (its payload returned to
    /// the receive pool) when the call returns: copy anything that must outlive it.
    /// </summary>
    void Handle(MqttMessage message);
}

/// <summary>The handlers of a sync engine by topic, checked once so a bad registration fails at start with its name.</summary>
internal static class DeviceTopicHandlers
{
    public static Dictionary<string, IDeviceTopicHandler> ByTopic(IEnumerable<IDeviceTopicHandler> handlers, SyncTopics syncTopics)
    {
        var byTopic = new Dictionary<string, IDeviceTopicHandler>(StringComparer.Ordinal);
        foreach (var handler in handlers)
        {
            foreach (var topic in handler.Topics)
            {
                var name = handler.GetType().Name;
                if (string.IsNullOrEmpty(topic) || topic.AsSpan().IndexOfAny('+', '#') >= 0)
                {
                    throw new ArgumentException($"Topic handler {name} asks for '{topic}': a handler takes exact topics, without '+' or '#'.");
                }

                if (syncTopics.Parse(topic).Kind != SyncTopicKind.Unknown)
                {
                    throw new ArgumentException($"Topic handler {name} asks for '{topic}', which is a topic of the sync protocol itself.");
                }

                if (!byTopic.TryAdd(topic, handler))
                {
                    throw new ArgumentException($"Topic handler {name} asks for '{topic}', which {byTopic[topic].GetType().Name} already handles.");
                }
            }
        }

        return byTopic;
    }
}
