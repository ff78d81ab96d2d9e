using Xunit;

namespace DatasetQuant.Testing;

/// <summary>
/// One <see cref="PostgresServer"/> shared by the tests of an xunit collection (each test assembly declares the
/// collection); each test takes a database of its own with <see cref="PostgresServer.CreateDatabaseAsync"/>.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
