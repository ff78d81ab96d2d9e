using System.Globalization;

namespace DatasetQuant.Testing;

/// <summary>
/// Debian's chromium, headless, run once per page: <see cref="DumpDomAsync"/> returns the document as the browser
/// built it, <see cref="ScreenshotAsync"/> saves a PNG. Each run gets a fresh profile, and the flags keep the browser
/// from reaching for the network on its own (the closed network here refuses it, and a test must not depend on it).
/// </summary>
public static class HeadlessChromium
{
    private static readonly string[] Paths = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium"];

    public static string Executable => Paths.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("chromium is not installed: run ./build.sh --target=bootstrap (apt-get install chromium).");

    public static async Task<string> DumpDomAsync(string url, CancellationToken cancellationToken = default) =>
        (await RunAsync(["--dump-dom", url], cancellationToken)).StdOut;

    public static async Task ScreenshotAsync(string url, string pngPath, int width, int height, CancellationToken cancellationToken = default)
    {
        var result = await RunAsync([$"--screenshot={pngPath}", $"--window-size={width.ToString(CultureInfo.InvariantCulture)},{height.ToString(CultureInfo.InvariantCulture)}", "--hide-scrollbars", url], cancellationToken);
        if (!File.Exists(pngPath))
        {
            throw new InvalidOperationException($"chromium wrote no screenshot to {pngPath}: {result}");
        }
    }

    private static async Task<ToolResult> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        using var profile = new TempDirectory("chromium");
        string[] flags =
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions", "--mute-audio", $"--user-data-dir={profile.Path}",
        ];
        var result = await ExternalProgram.RunAsync(Executable, [.. flags, .. args], TimeSpan.FromSeconds(90), cancellationToken);
        return result.ExitCode == 0 ? result : throw new InvalidOperationException($"chromium {string.Join(' ', args)} failed: {result}");
    }
}
