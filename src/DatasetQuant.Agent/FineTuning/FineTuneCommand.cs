using System.Text;
using System.Text.Json;

namespace DatasetQuant.Agent.FineTuning;

/// <summary>
/// The payload of <c>dq/v1/{fleet}/devices/{id}/command</c>: <c>{"command":"fine-tune"}</c>, or the bare word
/// <c>fine-tune</c> for an operator typing into mosquitto_pub.
/// </summary>
public static class FineTuneCommand
{
    public const string Name = "fine-tune";

    public static string Topic(string fleet, string deviceId) => $"dq/v1/{fleet}/devices/{deviceId}/command";

    /// <summary>True for a fine-tune command; <paramref name="error"/> says why anything else was not one.</summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, out string? error)
    {
        error = null;
        if (payload.Length > 4096)
        {
            error = $"payload of {payload.Length} bytes is too long for a command";
            return false;
        }

        var text = Encoding.UTF8.GetString(payload).Trim();
        if (text == Name)
        {
            return true;
        }

        try
        {
            var reader = new Utf8JsonReader(payload);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = $"'{Truncate(text)}' is neither '{Name}' nor a JSON object";
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isCommand = reader.ValueTextEquals("command"u8);
                reader.Read();
                if (isCommand)
                {
                    var value = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    error = value == Name ? null : $"unknown command '{value}'";
                    return value == Name;
                }

                reader.Skip();
            }

            error = "the JSON object has no \"command\"";
            return false;
        }
        catch (JsonException ex)
        {
            error = $"'{Truncate(text)}' is neither '{Name}' nor valid JSON: {ex.Message}";
            return false;
        }
    }

    private static string Truncate(string text) => text.Length <= 60 ? text : text[..60] + "...";
}
