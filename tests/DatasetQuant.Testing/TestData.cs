namespace DatasetQuant.Testing;

/// <summary>Where the real data the tests use lives (installed by Bootstrap from Debian's packages).</summary>
public static class TestData
{
    public const string FashionMnistDirectory = "/usr/share/datasets/fashion-mnist";

    public const string OnnxTestDataDirectory = "/usr/share/libonnx-testdata/data";

    public static string FashionMnist(string file)
    {
        var path = Path.Combine(FashionMnistDirectory, file);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"{path} is missing: run ./build.sh --target=bootstrap (apt-get install dataset-fashion-mnist).", path);
        }

        return path;
    }
}
