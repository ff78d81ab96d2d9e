using System.Buffers.Binary;
using System.Globalization;
using System.Text.RegularExpressions;
using DatasetQuant.Integration.Tests.Fleet;
using DatasetQuant.Testing;
using DatasetQuant.Training.Model;
using Xunit.Abstractions;

namespace DatasetQuant.Integration.Tests.Board;

/// <summary>
/// The same dq commands on x64 and on emulated arm64 boards (NativeAOT, NEON paths), on the same files. Decoding is
/// integer work and float arithmetic done in one order, so it must match to the bit. Training and generator sampling
/// run float GEMMs whose kernels sum in a different order on each architecture (AVX2 vs NEON lanes, FMA contraction),
/// so they match to a tolerance derived below from float32 rounding.
/// </summary>
[Collection(FleetCollection.Name)]
public sealed partial class CrossArchitectureTests(FashionMnistShardSet shards, ITestOutputHelper output) : IClassFixture<FashionMnistShardSet>
{
    [BoardTheory]
    [MemberData(nameof(ArmBoard.Names), MemberType = typeof(ArmBoard))]
    public async Task Decoding_the_shards_gives_bit_identical_floats_on_arm64(string boardName)
    {
        ArmEmulation.EnsureAvailable();
        var board = ArmBoard.Named(boardName);
        using var dir = new TempDirectory("cross-decode");
        foreach (var normalize in new[] { "standard", "unit" })
        {
            await DqPrograms.X64Async("decode", shards.Directory, "--out", dir.File($"x64-{normalize}.npy"), "--labels", dir.File("x64-labels.npy"), "--normalize", normalize);
            await DqPrograms.Arm64Async(board, "decode", shards.Directory, "--out", dir.File($"arm64-{normalize}.npy"), "--labels", dir.File("arm64-labels.npy"), "--normalize", normalize);
            var x64 = File.ReadAllBytes(dir.File($"x64-{normalize}.npy"));
            var arm64 = File.ReadAllBytes(dir.File($"arm64-{normalize}.npy"));
            Assert.Equal(4000 * 784 * sizeof(float), Floats(x64).Length * sizeof(float));
            Assert.True(x64.AsSpan().SequenceEqual(arm64), $"{normalize}: {Differing(Floats(x64), Floats(arm64))} of {Floats(x64).Length} floats differ");
        }

        Assert.Equal(File.ReadAllBytes(dir.File("x64-labels.npy")), File.ReadAllBytes(dir.File("arm64-labels.npy")));
    }

    /// <summary>
    /// Two epochs, one thread, the same seed. A float32 dot product of n terms summed in another order differs by up
    /// to about n·2⁻²⁴ relative (n = 784 here: ~5e-5); SGD carries such differences from step to step without
    /// amplifying them much over 126 small steps. Measured here: the epoch losses agree to every printed digit and the
    /// largest weight difference is 6.5e-7 of the largest weight, so the bounds (1e-4 on a loss, 1e-4 of the largest
    /// weight) leave two orders of magnitude for other shards and seeds while catching any kernel that computes
    /// something else (a wrong lane or a missed tail changes losses in the second decimal).
    /// </summary>
    [BoardFact]
    public async Task A_fixed_training_run_gives_the_same_losses_and_weights_on_arm64()
    {
        ArmEmulation.EnsureAvailable();
        using var dir = new TempDirectory("cross-train");
        string[] args = ["train", "--data", shards.Directory, "--epochs", "2", "--seed", "3", "--hidden", "64", "--batch-size", "64", "--threads", "1"];
        var x64 = await DqPrograms.X64Async([.. args, "--out", dir.File("x64.onnx")]);
        var arm64 = await DqPrograms.Arm64Async(ArmBoard.RaspberryPi4, [.. args, "--out", dir.File("arm64.onnx")]);

        var x64Losses = EpochLosses().Matches(x64.StdOut).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();
        var arm64Losses = EpochLosses().Matches(arm64.StdOut).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();
        output.WriteLine($"epoch losses x64 [{string.Join(", ", x64Losses)}], arm64 [{string.Join(", ", arm64Losses)}]");
        Assert.Equal(2, x64Losses.Length);
        Assert.Equal(x64Losses.Length, arm64Losses.Length);
        Assert.All(x64Losses.Zip(arm64Losses), pair => Assert.InRange(Math.Abs(pair.First - pair.Second), 0, 1e-4));

        var x64Weights = MlpOnnxImporter.Load(dir.File("x64.onnx")).Parameters;
        var arm64Weights = MlpOnnxImporter.Load(dir.File("arm64.onnx")).Parameters;
        Assert.Equal(x64Weights.Length, arm64Weights.Length);
        var largest = x64Weights.Max(MathF.Abs);
        var difference = x64Weights.Zip(arm64Weights, (a, b) => MathF.Abs(a - b)).Max();
        output.WriteLine($"largest weight {largest:G4}; largest difference {difference:G4} ({difference / largest:G3} of it); {Differing(x64Weights, arm64Weights)} of {x64Weights.Length} weights differ");
        Assert.InRange(difference, 0, 1e-4f * largest);
    }

    /// <summary>
    /// The same seed draws the same noise and labels on both (the product's own generator of random numbers), so
    /// only ONNX Runtime's kernels differ: MLAS sums the Gemm and convolution terms in other orders on NEON than on
    /// AVX2. Output pixels are in [0, 1]; 1e-5 is 1/400 of an 8-bit level, far below what changes a stored pixel,
    /// and far above the float32 rounding measured here (about 4e-7 at most).
    /// </summary>
    [BoardTheory]
    [InlineData("fit", 256)]
    [InlineData("dim-arch", 4)]
    public async Task Generator_samples_for_the_same_seed_match_on_arm64(string kind, int count)
    {
        ArmEmulation.EnsureAvailable();
        using var dir = new TempDirectory("cross-sample");
        var generator = dir.File("G.onnx");
        if (kind == "fit")
        {
            await DqPrograms.X64Async("generator", "fit", "--input", "fashion-mnist", "--limit", "2000", "--basis-samples", "1000", "--out", generator);
        }
        else
        {
            await DqPrograms.X64Async("generator", "dim-arch", "--dataset", "fashion-mnist", "--out", generator);
        }

        string[] args = ["sample", "--generator", generator, "--count", count.ToString(CultureInfo.InvariantCulture), "--seed", "11", "--threads", "1"];
        await DqPrograms.X64Async([.. args, "--out", dir.File("x64.npy")]);
        await DqPrograms.Arm64Async(ArmBoard.RaspberryPi4, [.. args, "--out", dir.File("arm64.npy")]);

        var x64 = Floats(File.ReadAllBytes(dir.File("x64.npy")));
        var arm64 = Floats(File.ReadAllBytes(dir.File("arm64.npy")));
        Assert.Equal(count * 784, x64.Length);
        Assert.Equal(x64.Length, arm64.Length);
        var difference = x64.Zip(arm64, (a, b) => MathF.Abs(a - b)).Max();
        output.WriteLine($"{kind}: {Differing(x64, arm64)} of {x64.Length} pixels differ, by at most {difference:G3}");
        Assert.InRange(difference, 0, 1e-5f);
        output.WriteLine($"{kind}: pixels from {x64.Min():G4} to {x64.Max():G4}");
        Assert.True(x64.Max() - x64.Min() > 1e-2f, $"the samples are flat ({x64.Min()}..{x64.Max()}): nothing was compared");
    }

    /// <summary>The float32 payload of an .npy file (the header is padded to a multiple of 64 bytes).</summary>
    private static float[] Floats(byte[] npy)
    {
        var headerLength = BinaryPrimitives.ReadUInt16LittleEndian(npy.AsSpan(8));
        var payload = npy.AsSpan(10 + headerLength);
        var floats = new float[payload.Length / sizeof(float)];
        for (var i = 0; i < floats.Length; i++)
        {
            floats[i] = BinaryPrimitives.ReadSingleLittleEndian(payload[(i * sizeof(float))..]);
        }

        return floats;
    }

    private static int Differing(float[] a, float[] b) => a.Zip(b).Count(p => p.First.CompareTo(p.Second) != 0);

    [GeneratedRegex(@"(?m)^epoch \d+: loss ([0-9.]+)")]
    private static partial Regex EpochLosses();
}
