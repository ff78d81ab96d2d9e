using DatasetQuant.Coordinator.Commands;
using DatasetQuant.Coordinator.Hosting;

namespace DatasetQuant.Coordinator.Tests;

public sealed class ByteSizeTests
{
    [Theory]
    [InlineData("65536", 65536)]
    [InlineData("64KiB", 65536)]
    [InlineData("1.5 MiB", 1572864)]
    [InlineData("2GB", 2_000_000_000)]
    [InlineData("256mib", 268435456)]
    [InlineData("1G", 1073741824)]
    [InlineData("0", 0)]
    public void Parses_sizes_people_write(string text, long expected)
    {
        Assert.True(ByteSize.TryParse(text, out var bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("-5MiB")]
    [InlineData("99999999999TiB")]
    [InlineData("5 parsecs")]
    public void Refuses_what_is_not_a_size(string text) => Assert.False(ByteSize.TryParse(text, out _));

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(1023, "1023 B")]
    [InlineData(1536, "1.5 KiB")]
    [InlineData(805306368, "768 MiB")]
    [InlineData(3221225472, "3.0 GiB")]
    public void Formats_for_tables(long bytes, string expected) => Assert.Equal(expected, ByteSize.Format(bytes));

    [Fact]
    public void Device_board_rules_match_exact_ids_and_prefixes_first_rule_wins()
    {
        var map = new DeviceBoardMap();
        map.Add("zero-7=rpi-5");
        map.Add("zero-*=rpi-zero-2w");
        map.Add("*=rpi-4");
        Assert.Equal("rpi-5", map.BoardOf("zero-7"));
        Assert.Equal("rpi-zero-2w", map.BoardOf("zero-12"));
        Assert.Equal("rpi-4", map.BoardOf("jetson-1"));
        Assert.Null(new DeviceBoardMap().BoardOf("x"));
    }

    [Theory]
    [InlineData("no-equals")]
    [InlineData("=rpi-4")]
    [InlineData("a*b=rpi-4")]
    [InlineData("pi-1=")]
    public void Malformed_device_board_rules_are_refused_quoting_the_rule(string rule)
    {
        var ex = Assert.Throws<ArgumentException>(() => new DeviceBoardMap().Add(rule));
        Assert.Contains(rule, ex.Message);
    }
}
