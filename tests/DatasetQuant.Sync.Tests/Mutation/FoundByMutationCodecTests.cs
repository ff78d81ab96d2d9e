using System.Text;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Chunks;
using DatasetQuant.Sync.Messages;

namespace DatasetQuant.Sync.Tests.Mutation;

/// <summary>Cases the codec and repair mutation tests found, each pinned on its own with the error it now gives.</summary>
public sealed class FoundByMutationCodecTests
{
    [Fact]
    public void An_array_stuffed_with_empty_objects_is_refused_at_its_first_element_without_allocating_for_the_rest()
    {
        // 65,537 "{}" are 196 KB; read as shard entries they were 11.5 MB of objects before the count was checked.
        var json = Encoding.UTF8.GetBytes(
            "{\"schema\":1,\"manifest\":{\"fleet\":\"lab\",\"dataset\":\"d\",\"version\":1,\"chunkSize\":1024,\"createdUnixSeconds\":0,\"shards\":["
            + string.Join(",", Enumerable.Repeat("{}", 65_537)) + "]},\"signature\":\"AA==\"}");
        SyncMessageCodec.TryReadManifest(json, out _, out _);

        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.False(SyncMessageCodec.TryReadManifest(json, out _, out var error));
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 64 << 10);
        Assert.StartsWith("SignedManifest: field 'manifest.shards[0]':", error, StringComparison.Ordinal);
        Assert.Contains("missing required properties", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_message_without_its_schema_is_refused_naming_the_field()
    {
        Assert.False(SyncMessageCodec.TryReadBudgetDesired("{\"device\":\"pi-07\",\"version\":3,\"bytes\":1}"u8, out _, out var error));
        Assert.StartsWith("BudgetDesired: ", error, StringComparison.Ordinal);
        Assert.Contains("'schema'", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[null]", "field 'datasets[0]' is null")]
    [InlineData("[{\"name\":\"../x\",\"manifestVersion\":1}]", "field 'datasets[0].name' is missing or not a valid name ('../x')")]
    [InlineData("[{\"name\":\"d\",\"manifestVersion\":0}]", "field 'datasets[0].manifestVersion' must be at least 1 (0)")]
    [InlineData("[{\"name\":\"d\",\"manifestVersion\":1,\"shards\":[null]}]", "field 'datasets[0].shards[0]' is null")]
    [InlineData("[{\"name\":\"d\",\"manifestVersion\":1,\"shards\":[{\"id\":0,\"bytes\":-5,\"precision\":\"full\"}]}]", "field 'datasets[0].shards[0].bytes' is negative (-5)")]
    [InlineData("[{\"name\":\"d\",\"manifestVersion\":1,\"shards\":[{\"id\":0,\"bytes\":5,\"precision\":\"x\"}]}]", "field 'datasets[0].shards[0].precision' is 'x'")]
    [InlineData("[{\"name\":\"d\",\"manifestVersion\":1},{\"name\":\"d\",\"manifestVersion\":2}]", "field 'datasets[1].name' is 'd' in two entries")]
    public void A_state_report_whose_dataset_entries_a_coordinator_cannot_file_is_refused_naming_the_entry(string datasets, string expected)
    {
        var json = Encoding.UTF8.GetBytes($"{{\"schema\":1,\"device\":\"pi-07\",\"status\":\"online\",\"heldBytes\":0,\"datasets\":{datasets}}}");
        Assert.False(SyncMessageCodec.TryReadDeviceState(json, out _, out var error));
        Assert.Equal("DeviceState: " + expected, error[..Math.Min(error.Length, expected.Length + 13)]);
    }

    [Theory]
    [InlineData("\"freeFlashBytes\":-1", "field 'freeFlashBytes' is negative (-1)")]
    [InlineData("\"budgetVersion\":-3", "field 'budgetVersion' is negative (-3)")]
    public void A_state_report_with_a_negative_figure_is_refused_naming_it(string property, string expected)
    {
        var json = Encoding.UTF8.GetBytes($"{{\"schema\":1,\"device\":\"pi-07\",\"status\":\"online\",\"heldBytes\":0,{property}}}");
        Assert.False(SyncMessageCodec.TryReadDeviceState(json, out _, out var error));
        Assert.Equal("DeviceState: " + expected, error);
    }

    [Fact]
    public void A_budget_report_of_an_unknown_status_is_refused_naming_the_field()
    {
        var json = "{\"schema\":1,\"device\":\"pi-07\",\"version\":3,\"budgetBytes\":1,\"heldBytes\":1,\"status\":\"done\"}"u8;
        Assert.False(SyncMessageCodec.TryReadBudgetReported(json, out _, out var error));
        Assert.Equal("BudgetReported: field 'status' is 'done', expected 'applied' or 'applying'", error);
    }

    [Fact]
    public async Task A_pull_listing_a_shard_many_times_is_refused_and_not_answered_many_times_over()
    {
        // Before, each listing was answered: 25 bytes of pull per whole copy of the shard sent back.
        await using var bed = new SyncTestBed();
        await bed.PublishAsync("fmnist", 3, bed.CreateShards("v3", 40_000));
        var pull = Encoding.UTF8.GetBytes(
            "{\"schema\":1,\"device\":\"pi-07\",\"dataset\":\"fmnist\",\"manifestVersion\":3,\"shards\":["
            + string.Join(",", Enumerable.Repeat("{\"id\":0,\"missing\":\"Bw==\"}", 10_000)) + "]}");

        Assert.Null(bed.Responder.TryPlan(new MqttMessage(bed.Topics.DevicePull("pi-07"), pull)));
        Assert.Contains(bed.Log.Lines, l => l.Contains("Ignored pull on dq/v1/lab/devices/pi-07/pull: PullRequest: field 'shards[1].id' is 0, listed twice", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(6, 0, "field 'nameLength' is 0")]
    [InlineData(20, 200_000, "field 'payloadLength' is 200000")]
    [InlineData(8, 0, "field 'manifestVersion' is 0")]
    [InlineData(16, -1, "field 'shardId' is negative")]
    public void A_frame_with_a_header_field_out_of_range_is_refused_naming_the_field(int offset, int value, string expected)
    {
        var frame = ChunkFrameWriter.Create("fmnist", 3, 0, 0, new byte[100], isRepair: false);
        if (offset == 6)
        {
            frame[6] = (byte)value;
        }
        else if (offset == 8)
        {
            BitConverter.TryWriteBytes(frame.AsSpan(8), (long)value);
        }
        else
        {
            BitConverter.TryWriteBytes(frame.AsSpan(offset), value);
        }

        FrameMutator.FixCrcs(frame);
        Assert.False(ChunkFrameReader.TryRead(frame, out _, out _, out var error));
        Assert.StartsWith("ChunkFrame: " + expected, error, StringComparison.Ordinal);
    }
}
