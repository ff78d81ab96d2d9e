using System.Diagnostics;
using DatasetQuant.Testing;

namespace DatasetQuant.Mqtt.Tests;

/// <summary>A throw-away CA, a broker certificate for 127.0.0.1 and a client certificate, minted with openssl.</summary>
internal sealed class TestCertificates : IDisposable
{
    private readonly TempDirectory _directory = new("mqtt-tls");

    private TestCertificates()
    {
    }

    public const UnixFileMode ReadableByAll = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    public string CaFile => _directory.File("ca.crt");

    public string ServerCertificate => _directory.File("server.crt");

    public string ServerKey => _directory.File("server.key");

    public string ClientCertificate => _directory.File("client.crt");

    public string ClientKey => _directory.File("client.key");

    /// <summary>A path in the same folder; files written there must be readable by the broker's user.</summary>
    public string File(string name) => _directory.File(name);

    public static async Task<TestCertificates> CreateAsync(string clientName)
    {
        var certificates = new TestCertificates();
        var dir = certificates._directory.Path;
        await System.IO.File.WriteAllTextAsync(Path.Combine(dir, "server.ext"), "subjectAltName=IP:127.0.0.1\n");
        await OpenSslAsync(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=dq test CA");
        await IssueAsync(dir, "server", "/CN=127.0.0.1", "server.ext");
        await IssueAsync(dir, "client", "/CN=" + clientName, extensions: null);

        // A broker started as root drops to the mosquitto user before it reads its files. Throw-away keys only.
        System.IO.File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        foreach (var file in Directory.EnumerateFiles(dir))
        {
            System.IO.File.SetUnixFileMode(file, ReadableByAll);
        }

        return certificates;
    }

    public void Dispose() => _directory.Dispose();

    private static async Task IssueAsync(string dir, string name, string subject, string? extensions)
    {
        await OpenSslAsync(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", name + ".key", "-out", name + ".csr", "-subj", subject);
        string[] sign = ["x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", name + ".crt", "-days", "2"];
        await OpenSslAsync(dir, extensions is null ? sign : [.. sign, "-extfile", extensions]);
    }

    private static async Task OpenSslAsync(string workingDirectory, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo("openssl", arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(startInfo)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"openssl {string.Join(' ', arguments)} failed ({process.ExitCode}): {await stderr}");
        }
    }
}
