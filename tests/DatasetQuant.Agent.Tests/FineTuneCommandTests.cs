using System.Text;
using DatasetQuant.Agent.FineTuning;

namespace DatasetQuant.Agent.Tests;

public sealed class FineTuneCommandTests
{
    [Theory]
    [InlineData("fine-tune")]
    [InlineData("  fine-tune\n")]
    [InlineData("{\"command\":\"fine-tune\"}")]
    [InlineData("{\"by\":\"operator\",\"extra\":{\"a\":[1,2]},\"command\":\"fine-tune\"}")]
    public void Accepts_the_command(string payload)
    {
        Assert.True(FineTuneCommand.TryParse(Encoding.UTF8.GetBytes(payload), out var error), error);
    }

    [Theory]
    [InlineData("reboot", "neither 'fine-tune' nor valid JSON")]
    [InlineData("[1]", "neither 'fine-tune' nor a JSON object")]
    [InlineData("{\"command\":\"reboot\"}", "unknown command 'reboot'")]
    [InlineData("{\"command\":7}", "unknown command ''")]
    [InlineData("{\"other\":1}", "no \"command\"")]
    [InlineData("{\"command\":", "nor valid JSON")]
    public void Refuses_anything_else_saying_why(string payload, string reason)
    {
        Assert.False(FineTuneCommand.TryParse(Encoding.UTF8.GetBytes(payload), out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_an_oversized_payload_without_reading_it()
    {
        Assert.False(FineTuneCommand.TryParse(new byte[5000], out var error));
        Assert.Contains("5000 bytes", error, StringComparison.Ordinal);
    }
}
