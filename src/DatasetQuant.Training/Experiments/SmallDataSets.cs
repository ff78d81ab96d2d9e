using System.Globalization;
using DatasetQuant.Core.Datasets;

namespace DatasetQuant.Training.Experiments;

/// <summary>One small training set and the test set it is evaluated on.</summary>
/// <param name="DataSeed">The seed that drew <paramref name="Train"/> from the larger set.</param>
/// <param name="Reference">When set, the model-importance cells use a reference trained on this other subset of the
/// same kind instead of one trained on <paramref name="Train"/>.</param>
public sealed record SmallDataSet(string Name, string Description, ImageDataset Train, ImageDataset Test, int DataSeed = 0, ImageDataset? Reference = null);

/// <summary>
/// Small grayscale sets made from Fashion-MNIST, for the regime where a budget forces half the samples out of about
/// 1,300: few samples per class, so which ones stay moves the accuracy by points. Each is a seeded subset of the train
/// split, evaluated on the whole test split made the same way.
/// </summary>
public static class SmallDataSets
{
    public static IReadOnlyList<string> Names { get; } = ["fmnist-8x8", "fmnist-8x8-counts", "fmnist-14x14", "fmnist-8x8-imbalanced"];

    /// <summary>Builds <paramref name="name"/> with <paramref name="trainCount"/> training samples (about) drawn with <paramref name="seed"/>.</summary>
    public static SmallDataSet Create(string name, ImageDataset train, ImageDataset test, int trainCount, int seed)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentOutOfRangeException.ThrowIfLessThan(trainCount, train.ClassCount);
        return name switch
        {
            "fmnist-8x8" => Make(name, "Fashion-MNIST area-averaged to 8×8, a class-balanced subset",
                d => ImageDatasetDerivation.ResizeArea(d, 8, 8), Balanced(train.ClassCount, trainCount)),
            "fmnist-8x8-counts" => Make(name,
                "Fashion-MNIST thresholded at 128, area-averaged to 8×8 and rounded to 17 levels (each pixel counts inked pixels, as in 8×8 digit sets), class-balanced",
                d => ImageDatasetDerivation.Posterize(ImageDatasetDerivation.ResizeArea(ImageDatasetDerivation.Threshold(d, 128), 8, 8), 17),
                Balanced(train.ClassCount, trainCount)),
            "fmnist-14x14" => Make(name, "Fashion-MNIST area-averaged to 14×14, a class-balanced subset",
                d => ImageDatasetDerivation.ResizeArea(d, 14, 14), Balanced(train.ClassCount, trainCount)),
            "fmnist-8x8-imbalanced" => Make(name, "Fashion-MNIST at 8×8, class c holding 0.8^c of the largest class's share (a 7.5:1 spread)",
                d => ImageDatasetDerivation.ResizeArea(d, 8, 8), Imbalanced(train.ClassCount, trainCount, 0.8)),
            _ => throw new ArgumentException($"unknown small data set '{name}'; expected {string.Join(", ", Names)}.", nameof(name)),
        };

        SmallDataSet Make(string setName, string description, Func<ImageDataset, ImageDataset> transform, int[] perClass)
        {
            var subset = ImageDatasetDerivation.SampleClasses(train, perClass, seed, $"{setName}-train");
            return new SmallDataSet(setName, description, transform(subset), transform(test), seed);
        }
    }

    /// <summary>Per-class counts that add up to <paramref name="total"/>, as equal as they can be.</summary>
    internal static int[] Balanced(int classes, int total)
    {
        var counts = new int[classes];
        for (var c = 0; c < classes; c++)
        {
            counts[c] = total / classes + (c < total % classes ? 1 : 0);
        }

        return counts;
    }

    /// <summary>
    /// A set of the user's own split per data seed: <paramref name="trainCount"/> of its samples for training, each
    /// class its proportional share, and the rest for testing, the way a small set with no test split of its own is
    /// evaluated.
    /// </summary>
    public static SmallDataSet Split(ImageDataset whole, int trainCount, int seed)
    {
        ArgumentNullException.ThrowIfNull(whole);
        ArgumentOutOfRangeException.ThrowIfLessThan(trainCount, whole.ClassCount);
        if (trainCount >= whole.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(trainCount),
                $"--train-samples {trainCount} leaves no test sample of the {whole.Count} in '{whole.Name}'.");
        }

        var classSizes = new double[whole.ClassCount];
        for (var i = 0; i < whole.Count; i++)
        {
            classSizes[whole.Label(i)]++;
        }

        var (train, test) = ImageDatasetDerivation.SplitClasses(whole, Apportion(classSizes, trainCount), seed, $"{whole.Name}-train", $"{whole.Name}-test");
        return new SmallDataSet(whole.Name,
            string.Create(CultureInfo.InvariantCulture,
                $"{whole.Name}: {whole.Channels}×{whole.Height}×{whole.Width}, {whole.Count} samples; each subset takes its training samples per class in proportion, the rest are its test set"),
            train, test, seed);
    }

    /// <summary>Per-class counts proportional to ratio^c, adding up to <paramref name="total"/> (largest remainders).</summary>
    internal static int[] Imbalanced(int classes, int total, double ratio) =>
        Apportion(Enumerable.Range(0, classes).Select(c => Math.Pow(ratio, c)).ToArray(), total);

    /// <summary>Counts proportional to <paramref name="shares"/> that add up to <paramref name="total"/> (largest remainders, lower index first on a tie).</summary>
    private static int[] Apportion(double[] shares, int total)
    {
        var classes = shares.Length;
        double sum = 0;
        foreach (var share in shares)
        {
            sum += share; // in index order, as the imbalanced sets were first drawn
        }

        var counts = new int[classes];
        var given = 0;
        for (var c = 0; c < classes; c++)
        {
            counts[c] = (int)Math.Floor(total * shares[c] / sum);
            given += counts[c];
        }

        var order = Enumerable.Range(0, classes).OrderByDescending(c => total * shares[c] / sum - counts[c]).ThenBy(c => c).ToArray();
        for (var k = 0; given < total; k++, given++)
        {
            counts[order[k % classes]]++;
        }

        return counts;
    }
}
