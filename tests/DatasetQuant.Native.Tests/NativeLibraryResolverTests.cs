using DatasetQuant.Native;

namespace DatasetQuant.Native.Tests;

public sealed class NativeLibraryResolverTests
{
    [Fact]
    public void Missing_library_names_every_place_tried_and_the_install_command()
    {
        var spec = new NativeLibrarySpec(
            "dq-test-absent", ["libdq-test-absent.so.9"], "DQ_TEST_ABSENT_PATH", "apt-get install nothing-real");

        var ex = Assert.Throws<NativeLibraryNotFoundException>(() => NativeLibraryResolver.Load(spec));

        Assert.Contains(Path.Combine(AppContext.BaseDirectory, "libdq-test-absent.so.9"), ex.Message, StringComparison.Ordinal);
        Assert.Contains("libdq-test-absent.so.9 (system paths)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install nothing-real", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DQ_TEST_ABSENT_PATH", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Environment_variable_overrides_the_search_and_a_wrong_path_fails_clearly()
    {
        const string variable = "DQ_TEST_OVERRIDE_PATH";
        var spec = new NativeLibrarySpec("dq-test-override", ["libdq-test-override.so.1"], variable, "hint");
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
