using DatasetQuant.Core.IO;
using DatasetQuant.Testing;

namespace DatasetQuant.Agent.Tests;

public sealed class AtomicFileTests
{
    [Fact]
    public void Writes_creates_directories_and_replaces_leaving_no_temp_file()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "a", "b", "report.json");

        AtomicFile.WriteAllBytes(path, "first"u8);
        AtomicFile.WriteAllBytes(path, "second"u8);

        Assert.Equal("second", File.ReadAllText(path));
        Assert.Equal(["report.json"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
    }

    [Fact]
    public void Leftovers_of_an_interrupted_write_are_removed_and_the_old_file_kept()
    {
        using var dir = new TempDirectory();
        AtomicFile.WriteAllBytes(dir.File("model.onnx"), "old"u8);
        File.WriteAllText(dir.File(".model.onnx.12345.tmp"), "half");

        Assert.Equal(1, AtomicFile.DeleteLeftovers(dir.Path));

        Assert.Equal("old", File.ReadAllText(dir.File("model.onnx")));
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void A_target_that_is_a_directory_fails_clearly_and_cleans_up()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.File("taken"));

        Assert.ThrowsAny<IOException>(() => AtomicFile.WriteAllBytes(dir.File("taken"), "x"u8));

        Assert.Empty(Directory.GetFiles(dir.Path));
    }
}
