using DatasetQuant.Coordinator.Store;

namespace DatasetQuant.Coordinator.Tests;

public sealed class PostgresUrlTests
{
    [Theory]
    [InlineData("postgres://dq@db.example:6543/fleet", "db.example", 6543, "fleet", "dq", null)]
    [InlineData("postgresql://dq@10.0.0.5/fleet", "10.0.0.5", 5432, "fleet", "dq", null)]
    [InlineData("postgres://dq:p%40ss@[::1]:5433/fleet", "::1", 5433, "fleet", "dq", "p@ss")]
    [InlineData("postgres://host/fleet%2Dx", "host", 5432, "fleet-x", null, null)]
    public void A_url_becomes_connection_settings(string url, string host, int port, string database, string? user, string? password)
    {
        var parsed = PostgresUrl.Parse(url);
        Assert.Equal((host, port, database, user, password), (parsed.Settings.Host, parsed.Settings.Port, parsed.Settings.Database, parsed.Settings.Username, parsed.Settings.Password));
        Assert.Equal("dq-coordinator", parsed.Settings.ApplicationName);
        Assert.DoesNotContain("p@ss", parsed.Display);
    }

    [Fact]
    public void Query_parameters_are_npgsql_settings_and_an_unknown_one_is_named()
    {
        var parsed = PostgresUrl.Parse("postgres://dq@h/f?sslmode=require&search_path=dq&timeout=7");
        Assert.Equal(Npgsql.SslMode.Require, parsed.Settings.SslMode);
        Assert.Equal("dq", parsed.Settings.SearchPath);
        Assert.Equal(7, parsed.Settings.Timeout);
        var ex = Assert.Throws<ArgumentException>(() => PostgresUrl.Parse("postgres://dq:secret@h/f?frobnicate=1"));
        Assert.Contains("frobnicate", ex.Message);
        Assert.DoesNotContain("secret", ex.Message);
    }

    [Theory]
    [InlineData("postgres://dq@host:5432/", "names no database")]
    [InlineData("postgres://dq@host:5432", "names no database")]
    [InlineData("postgres:///fleet", "names no host")]
    [InlineData("postgres://dq@host:99999/fleet", "is not a URL")]
    public void A_malformed_url_is_refused_saying_what_is_missing(string url, string expected)
    {
        var ex = Assert.Throws<ArgumentException>(() => PostgresUrl.Parse(url));
        Assert.Contains(expected, ex.Message);
    }

    [Theory]
    [InlineData("postgres://x@h/d", true)]
    [InlineData("POSTGRESQL://x@h/d", true)]
    [InlineData("fleet.db", false)]
    [InlineData("/var/lib/dq/postgres.db", false)]
    public void Only_postgres_urls_select_postgresql(string database, bool postgres) => Assert.Equal(postgres, FleetDatabase.IsPostgres(database));
}
