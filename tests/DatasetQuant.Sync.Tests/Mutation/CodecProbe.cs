using System.Diagnostics;
using System.Text.RegularExpressions;
using DatasetQuant.Sync.Chunks;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Sync.Security;

namespace DatasetQuant.Sync.Tests.Mutation;

/// <summary>
/// Decodes one input with the receiver's own reader and judges the outcome against the rule of docs/protocol.md §12:
/// it decodes into a message that is valid, or it fails with the reader's error, which names the message kind and a
/// field; nothing throws, nothing takes a second, and nothing allocates far more than the input's size.
/// </summary>
internal static partial class CodecProbe
{
    /// <summary>What a decode may allocate: a few times the input (strings are UTF-16, objects have headers), plus a constant.</summary>
    public const int AllocationFactor = 12;

    public const int AllocationAllowance = 256 << 10;

    public static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(1);

    public static readonly string[] Kinds = ["SignedManifest", "BudgetDesired", "BudgetReported", "DeviceState", "PullRequest", "ChunkFrame"];

    /// <summary>Decodes <paramref name="input"/> as <paramref name="kind"/>; null when the outcome keeps the rule, else what broke it.</summary>
    public static string? Judge(string kind, byte[] input)
    {
        var decode = Decoder(kind);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        bool ok;
        string error;
        object? message;
        try
        {
            ok = decode(input, out message, out error);
        }
        catch (Exception ex)
        {
            return $"threw {ex.GetType().Name}: {ex.Message}";
        }

        var elapsed = clock.Elapsed;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > ((long)AllocationFactor * input.Length) + AllocationAllowance)
        {
            return $"allocated {allocated} bytes for {input.Length} bytes of input ({(ok ? "decoded" : error)})";
        }

        if (elapsed > TimeLimit)
        {
            return $"took {elapsed.TotalMilliseconds:F0} ms";
        }

        if (!ok)
        {
            return NamesKindAndField(kind, error) ? null : $"error does not name the message and a field: {error}";
        }

        try
        {
            return Consistent(kind, input, message!);
        }
        catch (Exception ex)
        {
            return $"decoded, but using the message threw {ex.GetType().Name}: {ex.Message}";
        }
    }

    /// <summary>The documented form: "{Kind}: " then what is wrong, naming the field ("field 'x'", "fields 'x', 'y'") or the whole payload.</summary>
    public static bool NamesKindAndField(string kind, string error) =>
        error.StartsWith(kind + ": ", StringComparison.Ordinal) && NamesField(error[(kind.Length + 2)..]);

    /// <summary>Whether a text names a field ("field 'x'", "fields 'x' and 'y'") or the payload as a whole.</summary>
    public static bool NamesField(string text) => FieldNamed().IsMatch(text);

    [GeneratedRegex(@"\bfields? '[^']+'|\bpayload\b")]
    private static partial Regex FieldNamed();

    private delegate bool Decode(byte[] input, out object? message, out string error);

    private static Decode Decoder(string kind) => kind switch
    {
        "SignedManifest" => (byte[] b, out object? m, out string e) => Keep(SyncMessageCodec.TryReadManifest(b, out var x, out e), x, out m),
        "BudgetDesired" => (byte[] b, out object? m, out string e) => Keep(SyncMessageCodec.TryReadBudgetDesired(b, out var x, out e), x, out m),
        "BudgetReported" => (byte[] b, out object? m, out string e) => Keep(SyncMessageCodec.TryReadBudgetReported(b, out var x, out e), x, out m),
        "DeviceState" => (byte[] b, out object? m, out string e) => Keep(SyncMessageCodec.TryReadDeviceState(b, out var x, out e), x, out m),
        "PullRequest" => (byte[] b, out object? m, out string e) => Keep(SyncMessageCodec.TryReadPullRequest(b, out var x, out e), x, out m),
        "ChunkFrame" => (byte[] b, out object? m, out string e) =>
        {
            var ok = ChunkFrameReader.TryRead(b, out var header, out var payload, out e);
            m = (header, payload.Length);
            return ok;
        },
        _ => throw new ArgumentException(kind, nameof(kind)),
    };

    private static bool Keep(bool ok, object message, out object? kept)
    {
        kept = message;
        return ok;
    }

    /// <summary>A decoded message must be valid and usable: it re-encodes to itself and what a receiver derives from it works.</summary>
    private static string? Consistent(string kind, byte[] input, object message)
    {
        switch (message)
        {
            case SignedManifestMessage signed:
                var manifest = signed.Manifest;
                _ = ManifestCanonicalForm.GetBytes(manifest);
                _ = (manifest.LayerCount, manifest.FullHeldBytes, manifest.TotalBytes, ManifestPrefix.List(manifest).Count());
                return signed.Validate() ?? Reread(kind, SyncMessageCodec.Serialize(signed));
            case BudgetDesiredMessage desired:
                return desired.Validate() ?? Reread(kind, SyncMessageCodec.Serialize(desired));
            case BudgetReportedMessage reported:
                return reported.Validate() ?? Reread(kind, SyncMessageCodec.Serialize(reported));
            case DeviceStateMessage state:
                return state.Validate() ?? Reread(kind, SyncMessageCodec.Serialize(state));
            case PullRequestMessage pull:
                return pull.Validate() ?? Reread(kind, SyncMessageCodec.Serialize(pull));
            case (ChunkFrameHeader header, int payloadLength):
                return header.FrameSize == input.Length && header.Length == payloadLength && header.ManifestVersion > 0 && header.ShardId >= 0 && header.Offset >= 0
                    && SyncNames.IsValid(header.Dataset)
                    ? null
                    : $"decoded a frame whose header does not add up: {header}";
            default:
                return $"decoded into {message.GetType().Name}";
        }
    }

    private static string? Reread(string kind, byte[] encoded)
    {
        var decode = Decoder(kind);
        return decode(encoded, out _, out var error) ? null : $"decoded, but its own encoding does not decode again: {error}";
    }
}
