using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Progressive;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Testing;

namespace DatasetQuant.Core.Tests;

public sealed class ProgressiveHoldingsTests
{
    private const int Count = 600;

    /// <summary>The coordinator's side: embedded codes at full precision, the order, and its layers.</summary>
    private static (QuantizeResult Full, IncrementOrder Order, IReadOnlyList<LayerInfo> Layers) Publish(
        string directory, int layerVersion = LayerFile.VersionMajor, IEnumerable<long>? cuts = null)
    {
        var full = DatasetQuantizer.Quantize(Samples.FashionMnistTest.Take(Count), new QuantizeOptions
        {
            Budget = Budget.Parse("8bpp"),
            OutputDirectory = Path.Combine(directory, "full"),
            ShardPrefix = "test",
            EmbeddedCodes = true,
        });
        var order = IncrementOrder.Read(Path.Combine(directory, "full", "test.dqo"));
        var layers = LayerBuilder.Build(full.ShardPaths, order, Path.Combine(directory, "layers"), "test", minimumBytes: 8 * 1024, versionMajor: layerVersion, cutAtHeldBytes: cuts);
        return (full, order, layers);
    }

    private static long Receive(ProgressiveHoldings device, IReadOnlyList<LayerInfo> layers, int from, int to)
    {
        var chosen = layers.Skip(from).Take(to - from).ToList();
        device.Apply([.. chosen.Select(l => File.ReadAllBytes(l.Path))], [.. chosen.Select(l => l.Path)]);
        return chosen.Sum(l => l.Bytes);
    }

    /// <summary>What the coordinator's own shard becomes at the prefix's widths: the copy a device must hold, byte for byte.</summary>
    private static byte[] Expected(string directory, QuantizeResult full, IncrementOrder order, int increments)
    {
        var widths = new byte[Count];
        order.WidthsAfter(increments, widths);
        return Rewritten(full.ShardPaths.Single(), widths, Path.Combine(directory, $"expected-{increments}.dqs"));
    }

    /// <summary>The shard at <paramref name="path"/> re-quantized to new widths of its stored samples (0 drops one), as bytes.</summary>
    private static byte[] Rewritten(string path, byte[] widths, string output)
    {
        using (var shard = DqsReader.Open(path))
        {
            DqsShardRewriter.Write(shard, widths, output);
        }

        return File.ReadAllBytes(output);
    }

    [Fact]
    public void A_device_receives_about_the_prefix_it_keeps_and_holds_the_coordinators_allocation_byte_for_byte()
    {
        using var dir = new TempDirectory();
        var (full, order, layers) = Publish(dir.Path);
        Assert.True(layers.Count > 20, $"{layers.Count} layers");
        Assert.Equal(order.Increments.Count, layers.Sum(l => l.IncrementCount));

        foreach (var budget in new[] { 20_000L, 60_000, 150_000 })
        {
            var device = ProgressiveHoldings.Open(Path.Combine(dir.Path, $"device-{budget}"), "test");
            Directory.CreateDirectory(device.Directory);
            var count = LayerBuilder.LayersWithin(layers, budget);
            var received = Receive(device, layers, 0, count);

            Assert.Equal(layers[count - 1].HeldBytesAfter, device.HeldBytes);
            Assert.InRange(device.HeldBytes, budget * 0.9, budget);
            Assert.InRange(received, device.HeldBytes * 0.9, device.HeldBytes * 1.1);
            Assert.Equal(Expected(dir.Path, full, order, device.IncrementCount), File.ReadAllBytes(device.ShardPath));
            Assert.True(DqsVerifier.Verify(device.ShardPath).IsValid);
        }
    }

    [Fact]
    public void Layers_cut_at_a_budget_give_that_device_the_longest_prefix_that_fits()
    {
        using var dir = new TempDirectory();
        long[] budgets = [20_000, 60_123, 150_000];
        var (full, order, layers) = Publish(dir.Path, cuts: budgets);
        foreach (var budget in budgets)
        {
            var device = ProgressiveHoldings.Open(Path.Combine(dir.Path, $"device-{budget}"), "test");
            Directory.CreateDirectory(device.Directory);
            Receive(device, layers, 0, LayerBuilder.LayersWithin(layers, budget));

            // The next increment of the order would not have fitted: at most its planes, an index entry and what it
            // adds to the held increments (a 5-byte gap, a byte of steps, two counts of a new layer) are left unspent;
            // a 1 % layer leaves up to 1 % of the budget.
            var widths = new byte[Count];
            order.WidthsAfter(device.IncrementCount, widths);
            var (sample, to) = order.Increments[device.IncrementCount];
            var next = SampleQuantizer.PackedBytes(784, to) - SampleQuantizer.PackedBytes(784, widths[sample]) + (widths[sample] == 0 ? 16 : 0);
            Assert.InRange(budget - device.HeldBytes, 0, next + 8);
            Assert.Equal(Expected(dir.Path, full, order, device.IncrementCount), File.ReadAllBytes(device.ShardPath));
        }
    }

    [Fact]
    public void A_rise_fetches_only_the_next_layers_and_a_drop_is_local()
    {
        using var dir = new TempDirectory();
        var (full, order, layers) = Publish(dir.Path);
        var device = ProgressiveHoldings.Open(Path.Combine(dir.Path, "device"), "test");
        Directory.CreateDirectory(device.Directory);
        long Bpp(double bpp) => (long)(bpp * Count * 784 / 8);

        var at1 = LayerBuilder.LayersWithin(layers, Bpp(1));
        Receive(device, layers, 0, at1);
        var held1 = device.HeldBytes;
        var at2 = LayerBuilder.LayersWithin(layers, Bpp(2));
        var rise = Receive(device, layers, at1, at2);
        Assert.InRange(rise, (device.HeldBytes - held1) * 0.9, (device.HeldBytes - held1) * 1.1);
        Assert.Equal(Expected(dir.Path, full, order, device.IncrementCount), File.ReadAllBytes(device.ShardPath));

        // A drop re-quantizes what the device held: the coordinator's copy at 2 bpp shrunk to the 0.5 bpp widths.
        var (held2, at2Increments) = (Path.Combine(dir.Path, "held-2bpp.dqs"), device.IncrementCount);
        File.Copy(device.ShardPath, held2);
        var at05 = LayerBuilder.LayersWithin(layers, Bpp(0.5));
        device.TruncateTo(at05);
        Assert.Equal(layers[at05 - 1].HeldBytesAfter, device.HeldBytes);
        var (widths2, widths05) = (new byte[Count], new byte[Count]);
        order.WidthsAfter(at2Increments, widths2);
        order.WidthsAfter(device.IncrementCount, widths05);
        var kept = Enumerable.Range(0, Count).Where(i => widths2[i] > 0).Select(i => widths05[i]).ToArray();
        Assert.Equal(Rewritten(held2, kept, Path.Combine(dir.Path, "dropped.dqs")), File.ReadAllBytes(device.ShardPath));

        // Reopened, the holdings are the same; growing again continues from where the drop left them.
        var reopened = ProgressiveHoldings.Open(device.Directory, "test");
        Assert.Equal(device.IncrementCount, reopened.IncrementCount);
        Receive(reopened, layers, at05, at1);
        Assert.Equal(held1, reopened.HeldBytes);
    }

    [Fact]
    public void A_version_2_layer_still_applies_with_the_reconstruction_following_the_grid()
    {
        using var dir = new TempDirectory();
        var (full, order, layers) = Publish(dir.Path, layerVersion: 2);
        Assert.Equal("DQL2"u8.ToArray(), File.ReadAllBytes(layers[0].Path)[..4]);
        var device = ProgressiveHoldings.Open(Path.Combine(dir.Path, "device"), "test");
        Directory.CreateDirectory(device.Directory);
        var count = LayerBuilder.LayersWithin(layers, 60_000);
        Receive(device, layers, 0, count);

        var widths = new byte[Count];
        order.WidthsAfter(device.IncrementCount, widths);
        using var published = DqsReader.Open(full.ShardPaths.Single());
        using var held = DqsReader.Open(device.ShardPath);
        var (codes, expected) = (new byte[784], new byte[784]);
        var stored = 0;
        for (var i = 0; i < Count; i++)
        {
            if (widths[i] == 0)
            {
                continue;
            }

            // Versions 1 and 2 carry s₈ = the published 8-bit scale: the pair at b bits is s₈·2^(8−b) with the same shift.
            var record = published.Record(i);
            published.ReadCodes(i, expected);
            held.ReadCodes(stored, codes);
            var shift = record.Bits - widths[i];
            Assert.Equal(expected.Select(c => (byte)(c >> shift)), codes);
            Assert.Equal((record.Label, (int)widths[i], record.Parameters with { Scale = record.Scale * (1 << shift) }),
                (held.Label(stored), held.Bits(stored), held.Parameters(stored)));
            stored++;
        }

        Assert.Equal(held.Count, stored);
        Assert.True(stored > 50, $"{stored} samples held");
    }

    [Fact]
    public void A_damaged_repeated_or_skipped_layer_is_refused_and_changes_nothing()
    {
        using var dir = new TempDirectory();
        var (_, _, layers) = Publish(dir.Path);
        var device = ProgressiveHoldings.Open(Path.Combine(dir.Path, "device"), "test");
        Directory.CreateDirectory(device.Directory);
        Receive(device, layers, 0, 2);
        var before = File.ReadAllBytes(device.ShardPath);

        var damaged = File.ReadAllBytes(layers[2].Path);
        damaged[damaged.Length / 2] ^= 0x40;
        Assert.Equal("checksum", Assert.Throws<DqsFormatException>(() => device.Apply([damaged], ["layer-2"])).Field);
        var repeated = Assert.Throws<DqsFormatException>(() => Receive(device, layers, 1, 2));
        Assert.Equal("firstIncrement", repeated.Field);
        Assert.Throws<DqsFormatException>(() => Receive(device, layers, 3, 4));

        Assert.Equal(before, File.ReadAllBytes(device.ShardPath));
        Assert.Equal(layers[1].HeldBytesAfter, ProgressiveHoldings.Open(device.Directory, "test").HeldBytes);
    }

    [Fact]
    public void Held_increments_cut_off_from_their_shard_are_refused_on_open()
    {
        using var dir = new TempDirectory();
        var (_, _, layers) = Publish(dir.Path);
        var device = ProgressiveHoldings.Open(Path.Combine(dir.Path, "device"), "test");
        Directory.CreateDirectory(device.Directory);
        Receive(device, layers, 0, 3);
        var held = File.ReadAllBytes(device.HeldPath);
        Receive(device, layers, 3, 6);

        // A power cut after the shard's rename and before the held increments' one: the older file meets the newer shard.
        File.WriteAllBytes(device.HeldPath, held);
        var torn = Assert.Throws<DqsFormatException>(() => ProgressiveHoldings.Open(device.Directory, "test"));
        Assert.Contains("test.dqh", torn.Message, StringComparison.Ordinal);

        held[^10] ^= 1;
        File.WriteAllBytes(device.HeldPath, held);
        Assert.Equal("checksum", Assert.Throws<DqsFormatException>(() => ProgressiveHoldings.Open(device.Directory, "test")).Field);
    }

    [Fact]
    public void Held_increments_of_another_version_are_rewritten_in_place_and_a_drop_cut_off_between_its_writes_is_refused()
    {
        using var dir = new TempDirectory();
        var (_, _, layers) = Publish(dir.Path); // held sizes counted with version 4
        var device = ProgressiveHoldings.Open(Path.Combine(dir.Path, "device"), "test", heldVersion: 2);
        Directory.CreateDirectory(device.Directory);
        Receive(device, layers, 0, 6);
        Assert.Equal(2, device.Held!.FileVersion);
        var shard = File.ReadAllBytes(device.ShardPath);
        Assert.True(device.HeldBytes > layers[5].HeldBytesAfter, $"version 2 holds {device.HeldBytes}; the layers count {layers[5].HeldBytesAfter}");

        // A manifest that counts version 4 (docs/protocol.md §7, "Versions"): no layer goes, the held increments are rewritten.
        var reopened = ProgressiveHoldings.Open(device.Directory, "test", heldVersion: 4);
        reopened.TruncateTo(6);
        Assert.Equal(4, reopened.Held!.FileVersion);
        Assert.Equal(layers[5].HeldBytesAfter, reopened.HeldBytes);
        Assert.Equal(shard, File.ReadAllBytes(reopened.ShardPath));

        // A drop's shard written, its held increments not: version 4's width sum tells the two apart.
        var before = File.ReadAllBytes(reopened.HeldPath);
        reopened.TruncateTo(5);
        File.WriteAllBytes(reopened.HeldPath, before);
        var torn = Assert.Throws<DqsFormatException>(() => ProgressiveHoldings.Open(device.Directory, "test"));
        Assert.Contains("test.dqh", torn.Message, StringComparison.Ordinal);
    }
}
