using System.Globalization;
using System.Text;

namespace DatasetQuant.Training.Evaluation;

/// <summary>Accuracy, per-class accuracy and the confusion matrix (rows: true class, columns: predicted class).</summary>
public sealed class EvaluationReport
{
    public EvaluationReport(int classCount, int[] confusion)
    {
        if (confusion.Length != classCount * classCount)
        {
            throw new ArgumentException("the confusion matrix must be classes × classes.", nameof(confusion));
        }

        ClassCount = classCount;
        Confusion = confusion;
    }

    public int ClassCount { get; }

    /// <summary>Row-major [true, predicted] counts.</summary>
    public int[] Confusion { get; }

    public int Count => Confusion.Sum();

    public int Correct
    {
        get
        {
            var correct = 0;
            for (var c = 0; c < ClassCount; c++)
            {
                correct += Confusion[(c * ClassCount) + c];
            }

            return correct;
        }
    }

    public double Accuracy => Count == 0 ? 0 : (double)Correct / Count;

    public int CountOf(int trueClass) => Confusion.AsSpan(trueClass * ClassCount, ClassCount).ToArray().Sum();

    public double ClassAccuracy(int trueClass)
    {
        var total = CountOf(trueClass);
        return total == 0 ? double.NaN : (double)Confusion[(trueClass * ClassCount) + trueClass] / total;
    }

    /// <summary>The text <c>dq eval</c> prints: the accuracy line first, then per-class accuracy and the matrix.</summary>
    public string Format(IReadOnlyList<string>? classNames = null)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.Append(inv, $"accuracy: {Accuracy:F4}\n");
        text.Append(inv, $"samples:  {Count}\n\nper-class accuracy:\n");
        for (var c = 0; c < ClassCount; c++)
        {
            var name = classNames is not null && c < classNames.Count ? classNames[c] : c.ToString(inv);
            text.Append(inv, $"  {c,2} {name,-12} {ClassAccuracy(c):F4}  ({Confusion[(c * ClassCount) + c]}/{CountOf(c)})\n");
        }

        text.Append("\nconfusion matrix (rows: true class, columns: predicted):\n      ");
        for (var p = 0; p < ClassCount; p++)
        {
            text.Append(inv, $"{p,6}");
        }

        text.Append('\n');
        for (var t = 0; t < ClassCount; t++)
        {
            text.Append(inv, $"  {t,2}  ");
            for (var p = 0; p < ClassCount; p++)
            {
                text.Append(inv, $"{Confusion[(t * ClassCount) + p],6}");
            }

            text.Append('\n');
        }

        return text.ToString();
    }
}
