using System.Runtime.InteropServices;
using DatasetQuant.Native;

namespace DatasetQuant.Native.Tests;

public sealed class NativeLibraryResolverTests
{
    [Fact]
    public unsafe void Loads_bootstrapped_onnxruntime_and_reports_version_1_30_0()
    {
        var handle = NativeLibraryResolver.Load(KnownNativeLibraries.OnnxRuntime);
        var getApiBase = (delegate* unmanaged<nint>)NativeLibrary.GetExport(handle, "OrtGetApiBase");

        // OrtApiBase is { GetApi(uint32_t), GetVersionString(void) }: two function pointers.
        var apiBase = (nint*)getApiBase();
        var getVersionString = (delegate* unmanaged<byte*>)apiBase[1];
        var version = Marshal.PtrToStringUTF8((nint)getVersionString());

        Assert.Equal(KnownNativeLibraries.OnnxRuntimeVersion, version);
    }

    [Fact]
    public void Finds_onnxruntime_in_the_cache_that_bootstrap_fills()
    {
        var cached = NativeLibraryResolver.Candidates(KnownNativeLibraries.OnnxRuntime)
            .First(c => c.StartsWith(NativeLibraryResolver.CacheRoot, StringComparison.Ordinal));

        Assert.True(File.Exists(cached), $"{cached} should exist after ./build.sh --target=bootstrap");
    }

    [Fact]
    public void Missing_library_names_every_place_tried_and_the_install_command()
    {
        var spec = new NativeLibrarySpec(
            "dq-test-absent", ["libdq-test-absent.so.9"], "DQ_TEST_ABSENT_PATH", "absent/{rid}", "apt-get install nothing-real");

        var ex = Assert.Throws<NativeLibraryNotFoundException>(() => NativeLibraryResolver.Load(spec));

        Assert.Contains(Path.Combine(AppContext.BaseDirectory, "libdq-test-absent.so.9"), ex.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(NativeLibraryResolver.CacheRoot, "absent", NativeLibraryResolver.CurrentRid), ex.Message, StringComparison.Ordinal);
        Assert.Contains("libdq-test-absent.so.9 (system paths)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install nothing-real", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DQ_TEST_ABSENT_PATH", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Environment_variable_overrides_the_search_and_a_wrong_path_fails_clearly()
    {
        const string variable = "DQ_TEST_OVERRIDE_PATH";
        var spec = new NativeLibrarySpec("dq-test-override", ["libdq-test-override.so.1"], variable, null, "hint");
        Environment.SetEnvironmentVariable(variable, "/nonexistent/libdq-test-override.so.1");
        try
        {
            Assert.Equal(["/nonexistent/libdq-test-override.so.1"], NativeLibraryResolver.Candidates(spec));
            var ex = Assert.Throws<NativeLibraryNotFoundException>(() => NativeLibraryResolver.Load(spec));
            Assert.Contains("/nonexistent/libdq-test-override.so.1", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }
}
