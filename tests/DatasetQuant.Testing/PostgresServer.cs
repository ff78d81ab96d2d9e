using System.Globalization;

namespace DatasetQuant.Testing;

/// <summary>
/// Debian's PostgreSQL, a throw-away cluster (initdb) started on a free loopback port and removed on dispose, like
/// <see cref="MosquittoBroker"/>. PostgreSQL refuses to run as root, so as root every server program runs as the
/// <c>postgres</c> user (the package creates it) in a folder that user owns. The superuser is <c>dq</c>, trusted on
/// loopback; <see cref="CreateDatabaseAsync"/> gives each test a database of its own.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string User = "dq";

    private static int _databases;
    private readonly TempDirectory _directory;
    private readonly string _bin;
    private bool _running;

    private PostgresServer(TempDirectory directory, string bin, int port)
    {
        _directory = directory;
        _bin = bin;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The postmaster's process id, from postmaster.pid (its backends are its children).</summary>
    public int ProcessId => int.Parse(File.ReadLines(Path.Combine(_directory.Path, "postmaster.pid")).First(), CultureInfo.InvariantCulture);

    public string DataDirectory => _directory.Path;

    /// <summary>The server's log so far (for assertion messages).</summary>
    public string Log => File.Exists(LogPath) ? File.ReadAllText(LogPath) : "";

    private string LogPath => Path.Combine(_directory.Path, "server.log");

    /// <summary>
    /// Creates and starts a cluster. <paramref name="durable"/> false (tests) turns fsync off, which changes no
    /// result, only speed; measurements keep PostgreSQL's defaults.
    /// </summary>
    public static async Task<PostgresServer> StartAsync(bool durable = false, CancellationToken cancellationToken = default)
    {
        var bin = FindBinaries();
        var directory = new TempDirectory("postgres");
        var server = new PostgresServer(directory, bin, MosquittoBroker.FreeLoopbackPort());
        try
        {
            if (Environment.UserName == "root")
            {
                await RunAsync("chown", ["postgres:postgres", directory.Path], asPostgres: false, cancellationToken);
            }

            await server.RunServerProgramAsync("initdb",
                ["-D", directory.Path, "-U", User, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"], cancellationToken);
            var settings = $"-p {server.Port} -k {directory.Path} -c listen_addresses=127.0.0.1 -c max_connections=200" +
                (durable ? "" : " -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
            await server.RunServerProgramAsync("pg_ctl", ["-D", directory.Path, "-l", server.LogPath, "-o", settings, "-w", "-t", "60", "start"], cancellationToken);
            server._running = true;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary><c>postgres://dq@127.0.0.1:PORT/DATABASE</c>.</summary>
    public string Url(string database) => $"postgres://{User}@127.0.0.1:{Port}/{database}";

    /// <summary>Creates an empty database with a name of its own and returns its URL.</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken = default)
    {
        var name = $"fleet_{Environment.ProcessId}_{Interlocked.Increment(ref _databases)}";
        await RunAsync(Path.Combine(_bin, "createdb"), ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", User, name],
            asPostgres: false, cancellationToken);
        return Url(name);
    }

    /// <summary>Runs one SQL statement with psql and returns what it printed (unaligned, tuples only).</summary>
    public async Task<string> QueryAsync(string database, string sql, CancellationToken cancellationToken = default) =>
        await RunAsync(Path.Combine(_bin, "psql"),
            ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", User, "-d", database, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
            asPostgres: false, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_running)
        {
            _running = false;
            try
            {
                await RunServerProgramAsync("pg_ctl", ["-D", _directory.Path, "-m", "immediate", "-w", "stop"], CancellationToken.None);
            }
            catch (InvalidOperationException)
            {
                // Already gone; the folder is removed all the same.
            }
        }

        _directory.Dispose();
    }

    private static string FindBinaries()
    {
        var versions = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Where(d => File.Exists(Path.Combine(d, "bin", "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0).ToList()
            : [];
        return versions.Count > 0
            ? Path.Combine(versions[0], "bin")
            : throw new InvalidOperationException("PostgreSQL is not installed: run ./build.sh --target=bootstrap (apt-get install postgresql).");
    }

    private Task<string> RunServerProgramAsync(string program, string[] args, CancellationToken cancellationToken) =>
        RunAsync(Path.Combine(_bin, program), args, asPostgres: Environment.UserName == "root", cancellationToken);

    private static async Task<string> RunAsync(string program, string[] args, bool asPostgres, CancellationToken cancellationToken)
    {
        // su runs one shell command; every argument is single-quoted for it.
        string[] command = asPostgres
            ? ["postgres", "-s", "/bin/sh", "-c", "exec " + string.Join(' ', new[] { program }.Concat(args).Select(a => "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"))]
            : args;
        var result = await ExternalProgram.RunAsync(asPostgres ? "su" : program, command, TimeSpan.FromSeconds(120), cancellationToken);
        return result.ExitCode == 0
            ? result.StdOut
            : throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', args)} exited with {result.ExitCode}: {result.StdErr}{result.StdOut}");
    }
}
