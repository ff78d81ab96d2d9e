using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;

namespace DatasetQuant.Native;

/// <summary>
/// The one place the libmosquitto and libgpiod bindings find their native library. Order: the spec's environment
/// variable (if set, nothing else is tried), the folder of the running binary, then the system loader paths. A failure names everything it tried and the command that installs the library.
/// </summary>
public static class NativeLibraryResolver
{
    private static readonly ConcurrentDictionary<string, nint> Loaded = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string> LoadedPaths = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<Assembly, NativeLibrarySpec[]> Registered = new();

    /// <summary>Routes the <c>LibraryImport</c>s of <paramref name="assembly"/> that name one of the specs here.</summary>
    public static void Register(Assembly assembly, params NativeLibrarySpec[] specs)
    {
        if (!Registered.TryAdd(assembly, specs))
        {
            return;
        }

        NativeLibrary.SetDllImportResolver(assembly, static (name, asm, _) =>
        {
            foreach (var spec in Registered[asm])
            {
                if (string.Equals(spec.ImportName, name, StringComparison.Ordinal))
                {
                    return Load(spec);
                }
            }

            return 0;
        });
    }

    /// <summary>Loads the library (once per process) or throws <see cref="NativeLibraryNotFoundException"/>.</summary>
    public static nint Load(NativeLibrarySpec spec)
    {
        if (Loaded.TryGetValue(spec.ImportName, out var handle))
        {
            return handle;
        }

        handle = LoadUncached(spec, out var path);
        LoadedPaths[spec.ImportName] = path;
        return Loaded.GetOrAdd(spec.ImportName, handle);
    }

    /// <summary>Where a loaded library came from (a full path, or the bare name the system loader resolved).</summary>
    public static string? LoadedFrom(NativeLibrarySpec spec) => LoadedPaths.GetValueOrDefault(spec.ImportName);

    /// <summary>The candidate paths in the order they are tried (the system loader's own search comes last).</summary>
    public static IReadOnlyList<string> Candidates(NativeLibrarySpec spec)
    {
        var overridePath = Environment.GetEnvironmentVariable(spec.EnvironmentVariable);
        if (!string.IsNullOrEmpty(overridePath))
        {
            return [overridePath];
        }

        var candidates = new List<string>();
        foreach (var file in spec.FileNames)
        {
            candidates.Add(Path.Combine(AppContext.BaseDirectory, file));
        }

        // Bare names go to dlopen, which searches LD_LIBRARY_PATH, the ld.so cache and the default directories.
        candidates.AddRange(spec.FileNames);
        return candidates;
    }

    private static nint LoadUncached(NativeLibrarySpec spec, out string path)
    {
        var candidates = Candidates(spec);
        string? lastError = null;
        foreach (var candidate in candidates)
        {
            var isPath = candidate.Contains('/', StringComparison.Ordinal);
            if (isPath && !File.Exists(candidate))
            {
                continue;
            }

            try
            {
                path = candidate;
                return NativeLibrary.Load(candidate);
            }
            catch (DllNotFoundException ex)
            {
                // A file that exists but does not load (wrong architecture, missing dependency) is worth reporting.
                lastError = isPath ? ex.Message : lastError;
            }
            catch (BadImageFormatException ex)
            {
                lastError = ex.Message;
            }
        }

        var tried = candidates.Select(c => c.Contains('/', StringComparison.Ordinal) ? c : c + " (system paths)").ToArray();
        throw new NativeLibraryNotFoundException(spec, tried, lastError);
    }
}
