using System.CommandLine;
using DatasetQuant.Onnx.Model;
using DatasetQuant.Training.Data;
using DatasetQuant.Training.Evaluation;

namespace DatasetQuant.Cli.Commands;

/// <summary><c>dq eval</c>: a classifier's accuracy through ONNX Runtime, per class and as a confusion matrix.</summary>
internal static class EvalCommand
{
    private static readonly string[] FashionMnistClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The ONNX classifier", Required = true };
        var input = new Option<string[]>("--input") { Description = "Evaluation data: a dataset spec (fashion-mnist:test) or .dqs shards", Required = true, AllowMultipleArgumentsPerToken = true };
        var command = new Command("eval", "Evaluate a classifier through ONNX Runtime: accuracy, per-class accuracy, confusion matrix.") { model, input };
        command.SetAction(parse => TrainingCommandErrors.Run(() =>
        {
            var modelPath = parse.GetValue(model)!;
            var specs = parse.GetValue(input)!;
            var normalization = InputNormalization.FromMetadata(OnnxModelReader.ReadFile(modelPath).Metadata, modelPath);
            using var classifier = new OnnxClassifier(modelPath);
            var source = TrainingInputs.Open(specs, normalization);
            try
            {
                var report = ClassifierEvaluator.Evaluate(classifier, source);
                var names = specs.Any(s => s.StartsWith("fashion-mnist", StringComparison.OrdinalIgnoreCase)) ? FashionMnistClasses : null;
                Console.Write(report.Format(names));
                return 0;
            }
            finally
            {
                TrainingInputs.Close(source);
            }
        }));
        return command;
    }
}
