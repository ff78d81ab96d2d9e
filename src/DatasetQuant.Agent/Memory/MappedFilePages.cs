using System.Globalization;
using DatasetQuant.Agent.Interop;

namespace DatasetQuant.Agent.Memory;

/// <summary>
/// Unmaps the resident pages of the read-only mappings of dq-agent's binary and shared libraries (its own code and
/// read-only data, libc, libm, OpenSSL, ONNX Runtime after a fine-tune), so that only the pages the
/// agent touches again come back.
/// </summary>
/// <remarks>
/// <para>
/// Why: start-up runs code that idle never runs again (configuration, DI, logging set-up, PEM import, manifest checks,
/// OpenSSL's initialisation), and the kernel maps each page of a file together with up to 15 neighbours it already
/// holds in the page cache (fault-around, 64 KiB; madvise(MADV_RANDOM) does not turn it off). After start-up nearly
/// every page of the 6.8 MB binary and of libcrypto is mapped, and stays so: about 10 MB of an idle agent's 17.7 MB
/// RSS. Unmapping them brought idle RSS to 9.9 MB 10 s after READY and 11.3 MB after 75 s, once the idle path had
/// mapped back what it runs (docs/results.md, dq-agent).
/// </para>
/// <para>
/// Why it is safe: only private mappings that are not writable and hold no page of their own (smaps "Anonymous: 0")
/// are released. Their content is exactly the file's, and the next access maps the same page again from the page
/// cache (a minor fault; I/O only if the kernel evicted the page meanwhile). Mappings with written pages (relocated
/// RELRO data, .data, a debugger's breakpoints) and locked ones are left alone. The pages stay in the page cache,
/// shared with other processes, until the kernel needs the memory; what changes is that they no longer count for
/// this process and are the first the kernel may reclaim.
/// </para>
/// </remarks>
internal static class MappedFilePages
{
    /// <summary>A range of the address space that <see cref="Unmap"/> may release, with its resident size.</summary>
    internal readonly record struct ReleasableRange(ulong Start, ulong End, long ResidentKiB, string Path);

    /// <summary>Releases every eligible range of this process; returns how many kilobytes were resident in them.</summary>
    public static long Unmap()
    {
        List<ReleasableRange> ranges;
        try
        {
            using var smaps = new StreamReader("/proc/self/smaps");
            ranges = FindReleasable(smaps, Environment.ProcessPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0; // no procfs (a container without it): nothing to trim, nothing broken
        }

        long released = 0;
        foreach (var range in ranges)
        {
            // Fails only for ranges the kernel will not drop (EINVAL for special mappings); those just stay resident.
            if (Libc.madvise((nint)range.Start, (nuint)(range.End - range.Start), Libc.MADV_DONTNEED) == 0)
            {
                released += range.ResidentKiB;
            }
        }

        return released;
    }

    /// <summary>
    /// The ranges of a /proc/PID/smaps text that map <paramref name="executablePath"/> or a shared library privately
    /// and read-only, have resident pages, and none written.
    /// </summary>
    internal static List<ReleasableRange> FindReleasable(TextReader smaps, string? executablePath)
    {
        var ranges = new List<ReleasableRange>();
        Candidate? current = null;
        while (smaps.ReadLine() is { } line)
        {
            if (IsMappingHeader(line))
            {
                Add(current, ranges);
                current = ParseHeader(line, executablePath);
            }
            else if (current is null)
            {
                continue; // field lines before the first mapping header: nothing to attach them to
            }
            else if (line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                current.ResidentKiB = ParseKiB(line.AsSpan("Rss:".Length));
            }
            else if (line.StartsWith("Anonymous:", StringComparison.Ordinal))
            {
                current.AnonymousKiB = ParseKiB(line.AsSpan("Anonymous:".Length));
            }
            else if (line.StartsWith("VmFlags:", StringComparison.Ordinal))
            {
                // lo: mlock()ed. The kernel refuses DONTNEED there, and whoever locked it wants it resident.
                current.Locked = line.Contains(" lo", StringComparison.Ordinal);
            }
        }

        Add(current, ranges);
        return ranges;
    }

    private static void Add(Candidate? candidate, List<ReleasableRange> ranges)
    {
        if (candidate is { IsReadOnlyImage: true, AnonymousKiB: 0, Locked: false, ResidentKiB: > 0 })
        {
            ranges.Add(new ReleasableRange(candidate.Start, candidate.End, candidate.ResidentKiB, candidate.Path));
        }
    }

    // "55d0c0a00000-55d0c0a0e000 r--p 00000000 fe:00 1234    /usr/bin/dq-agent": a hex address range, then the rest.
    // Field lines ("Rss:      12 kB") have a name that is not hexadecimal before their colon.
    private static bool IsMappingHeader(string line)
    {
        var dash = line.IndexOf('-', StringComparison.Ordinal);
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        return dash > 0 && space > dash && line.AsSpan(0, dash).IndexOfAnyExcept("0123456789abcdef") < 0;
    }

    private static Candidate ParseHeader(string line, string? executablePath)
    {
        Span<Range> fields = stackalloc Range[6];
        var text = line.AsSpan();
        var count = text.Split(fields, ' ', StringSplitOptions.RemoveEmptyEntries);
        var addresses = text[fields[0]];
        var dash = addresses.IndexOf('-');
        var candidate = new Candidate
        {
            Start = ulong.Parse(addresses[..dash], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture),
            End = ulong.Parse(addresses[(dash + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture),
        };
        if (count < 6)
        {
            return candidate; // anonymous memory: there is no file to map it back from
        }

        // The path is the rest of the line (it may contain spaces); Split put all of it in the last range.
        var path = text[fields[5]].Trim().ToString();
        var permissions = text[fields[1]];
        candidate.Path = path;
        candidate.IsReadOnlyImage = permissions is [_, '-', _, 'p'] && !text[fields[4]].SequenceEqual("0")
                                    && path.StartsWith('/') && !path.EndsWith(" (deleted)", StringComparison.Ordinal)
                                    && (path == executablePath || IsSharedLibrary(path));
        return candidate;
    }

    // libc.so.6, libcrypto.so.3, libonnxruntime.so.1, libssl.so.3, ld-linux-x86-64.so.2.
    private static bool IsSharedLibrary(string path) => Path.GetFileName(path.AsSpan()).Contains(".so", StringComparison.Ordinal);

    private static long ParseKiB(ReadOnlySpan<char> value)
    {
        value = value.Trim();
        var space = value.IndexOf(' ');
        return long.Parse(space < 0 ? value : value[..space], NumberStyles.None, CultureInfo.InvariantCulture);
    }

    private sealed class Candidate
    {
        public ulong Start { get; init; }

        public ulong End { get; init; }

        public string Path { get; set; } = "";

        public bool IsReadOnlyImage { get; set; }

        public long ResidentKiB { get; set; }

        public long AnonymousKiB { get; set; }

        public bool Locked { get; set; }
    }
}
