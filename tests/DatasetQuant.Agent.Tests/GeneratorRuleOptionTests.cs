using DatasetQuant.Sync.Device;
using DatasetQuant.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Agent.Tests;

/// <summary>
/// A configured FineTune:SyntheticRatio overrides a pushed generator's mixing rule, so the agent tells its sync layer
/// to hold the generator even where the rule says 0; without it the rule decides.
/// </summary>
public sealed class GeneratorRuleOptionTests : IDisposable
{
    private readonly TempDirectory _data = new("agent-rule");

    public void Dispose() => _data.Dispose();

    [Theory]
    [InlineData(null, true)]
    [InlineData("0.3", false)]
    public void The_sync_layer_follows_the_mixing_rule_unless_a_share_is_configured(string? share, bool follows)
    {
        var key = TestKeys.WriteCoordinatorKey(_data.Path);
        string[] args =
        [
            "--device-config", Path.Combine(AppContext.BaseDirectory, "device-configs", "dev-x64.json"),
            "--data-dir", _data.Path, "--coordinator-key", key, "--device-id", "dev-test",
        ];
        var builder = AgentHost.CreateBuilder(share is null ? args : [.. args, "--FineTune:SyntheticRatio", share]);
        using var host = builder.Build();
        Assert.Equal(follows, host.Services.GetRequiredService<IOptions<DeviceSyncOptions>>().Value.FollowGeneratorMixingRule);
    }
}
