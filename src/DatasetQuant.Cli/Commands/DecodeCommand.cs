using System.CommandLine;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Formats.Dqs;

namespace DatasetQuant.Cli.Commands;

/// <summary><c>dq decode</c>: shards back to an N×C×H×W .npy (and labels).</summary>
internal static class DecodeCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "Shard files or folders of shards", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "Images .npy, shaped N×C×H×W", Required = true };
        var labels = new Option<string?>("--labels") { Description = "Labels .npy (int64, shaped N)" };
        var dtype = new Option<string>("--dtype") { Description = "float32 | uint8", DefaultValueFactory = _ => "float32" };
        dtype.AcceptOnlyFromAmong("float32", "uint8");
        var normalize = new Option<string>("--normalize") { Description = "float32 scale: unit ([0,1]), standard ((x-mean)/std with the shard statistics) or pixel (0-255)", DefaultValueFactory = _ => "unit" };
        normalize.AcceptOnlyFromAmong("unit", "standard", "pixel");
        var command = new Command("decode", "Decode shards to .npy arrays: images N×C×H×W (float32 or uint8) and labels.") { paths, output, labels, dtype, normalize };
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            using var set = DqsShardSet.Open(parse.GetValue(paths)!);
            var h = set.Header;
            int[] shape = [set.Count, h.Channels, h.Height, h.Width];
            var pixels = set.PixelsPerSample;
            if (parse.GetValue(dtype) == "uint8")
            {
                using var writer = NpyWriter.Create(parse.GetValue(output)!, NpyDType.UInt8, shape);
                var buffer = new byte[pixels];
                for (var i = 0; i < set.Count; i++)
                {
                    set.Decode(i, buffer);
                    writer.Append(buffer);
                }

                writer.Commit();
            }
            else
            {
                var normalization = parse.GetValue(normalize) switch
                {
                    "standard" => DqsNormalization.FromHeader(h),
                    "pixel" => DqsNormalization.PixelScale(h.Channels),
                    _ => DqsNormalization.Unit(h.Channels),
                };
                using var writer = NpyWriter.Create(parse.GetValue(output)!, NpyDType.Float32, shape);
                var buffer = new float[pixels];
                for (var i = 0; i < set.Count; i++)
                {
                    set.Decode(i, buffer, normalization);
                    writer.Append(buffer);
                }

                writer.Commit();
            }

            if (parse.GetValue(labels) is { } labelsPath)
            {
                var values = new long[set.Count];
                for (var i = 0; i < set.Count; i++)
                {
                    values[i] = set.Label(i);
                }

                NpyWriter.Write(labelsPath, values, set.Count);
            }

            Console.WriteLine($"{set.Count} samples of {h.Channels}x{h.Height}x{h.Width} -> {parse.GetValue(output)}");
            return 0;
        }));
        return command;
    }
}
