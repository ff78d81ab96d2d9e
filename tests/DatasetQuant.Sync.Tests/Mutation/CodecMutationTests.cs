using System.Security.Cryptography;
using System.Text;
using DatasetQuant.Testing;
using Xunit.Abstractions;

namespace DatasetQuant.Sync.Tests.Mutation;

/// <summary>
/// Every message kind a peer sends, mutated a few hundred times from a valid encoding with a seeded generator, through
/// the receiver's own reader (<see cref="CodecProbe"/>): each mutant decodes into a valid message or fails with an
/// error naming the message and the field, and none throws, hangs or allocates far beyond its size. A failure lists the
/// seeds and mutations, so each case can be replayed alone.
/// </summary>
public sealed class CodecMutationTests(ITestOutputHelper output)
{
    private const int MutantsPerSeed = 300;

    public static TheoryData<string, string> Seeds()
    {
        var data = new TheoryData<string, string>();
        foreach (var (name, _) in WireSamples.Manifests())
        {
            data.Add("SignedManifest", name);
        }

        foreach (var kind in new[] { "BudgetDesired", "BudgetReported", "DeviceState", "PullRequest" })
        {
            data.Add(kind, kind);
        }

        foreach (var (name, _) in WireSamples.Frames())
        {
            data.Add("ChunkFrame", name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Every_mutant_decodes_into_a_valid_message_or_fails_naming_the_message_and_field(string kind, string seedName)
    {
        var seed = Seed(kind, seedName);
        _ = Decodes(kind, seed); // the reader's first use builds its metadata: not the message's cost
        Assert.Null(CodecProbe.Judge(kind, seed));

        var failures = new List<string>();
        var (decoded, refused) = (0, 0);
        for (var i = 0; i < MutantsPerSeed; i++)
        {
            var random = new Random(Stable(seedName) + i);
            var (mutant, description) = kind == "ChunkFrame" ? new FrameMutator(random).Mutate(seed) : new JsonMutator(random).Mutate(seed);
            var verdict = CodecProbe.Judge(kind, mutant);
            if (verdict is not null)
            {
                failures.Add($"{seedName} mutant {i} ({description}): {verdict}");
            }
            else if (Decodes(kind, mutant))
            {
                decoded++;
            }
            else
            {
                refused++;
            }
        }

        output.WriteLine($"{kind} {seedName}: {MutantsPerSeed} mutants, {decoded} decoded, {refused} refused, {failures.Count} broke the rule");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures.Take(25)));
        Assert.True(refused > MutantsPerSeed / 4, $"only {refused} of {MutantsPerSeed} mutants were refused: the mutations do not reach the checks");
    }

    /// <summary>The valid encoding each theory case starts from.</summary>
    internal static byte[] Seed(string kind, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return kind switch
        {
            "SignedManifest" => WireSamples.Signed(WireSamples.Manifests().Single(m => m.Name == name).Manifest, key),
            "BudgetDesired" => WireSamples.BudgetDesired(),
            "BudgetReported" => WireSamples.BudgetReported(),
            "DeviceState" => WireSamples.DeviceState(),
            "PullRequest" => WireSamples.PullRequest(),
            _ => WireSamples.Frames().Single(f => f.Name == name).Frame,
        };
    }

    /// <summary>A seed offset that does not change between runs (string hash codes do).</summary>
    internal static int Stable(string text) => Encoding.ASCII.GetBytes(text).Aggregate(17, (hash, b) => unchecked((hash * 31) + b)) & 0x3FFFFFFF;

    private static bool Decodes(string kind, byte[] mutant) => kind switch
    {
        "SignedManifest" => Messages.SyncMessageCodec.TryReadManifest(mutant, out _, out _),
        "BudgetDesired" => Messages.SyncMessageCodec.TryReadBudgetDesired(mutant, out _, out _),
        "BudgetReported" => Messages.SyncMessageCodec.TryReadBudgetReported(mutant, out _, out _),
        "DeviceState" => Messages.SyncMessageCodec.TryReadDeviceState(mutant, out _, out _),
        "PullRequest" => Messages.SyncMessageCodec.TryReadPullRequest(mutant, out _, out _),
        _ => Chunks.ChunkFrameReader.TryRead(mutant, out _, out _, out _),
    };
}
