using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using DatasetQuant.Core.Formats.Dqs;

namespace DatasetQuant.Cli.Commands;

/// <summary><c>dq inspect</c>: what each shard holds, and its SHA-256.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "Shard files or folders of shards", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "Print JSON: an object per shard (an array for several); widthHistogram[b] counts the samples at b bits, [0] the source samples the shard dropped (planes shards: samples at b planes); codec 1 or 2 (range-coded planes)" };
        var command = new Command("inspect", "Show a shard's header, sample count, bit-width histogram, size, bits per pixel and SHA-256.") { paths, json };
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            var files = DqsShardSet.ExpandPaths(parse.GetValue(paths)!);
            if (files.Count == 0)
            {
                throw new FileNotFoundException($"no .dqs shards in {string.Join(", ", parse.GetValue(paths)!)}.");
            }

            var summaries = files.Select(Summarize).ToList();
            if (parse.GetValue(json))
            {
                WriteJson(summaries);
            }
            else
            {
                foreach (var summary in summaries)
                {
                    WriteText(summary);
                }

                if (summaries.Count > 1)
                {
                    var bytes = summaries.Sum(s => s.Bytes);
                    var payload = summaries.Sum(s => s.Header.PayloadLength);
                    var index = summaries.Sum(s => s.IndexBytes);
                    var stored = summaries.Sum(s => (long)s.Header.SampleCount);
                    var pixels = summaries.Sum(s => (double)s.Header.SourceCount * s.Header.PixelsPerSample);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"total: {summaries.Count} shards, {summaries.Sum(s => s.Header.SampleCount)} samples of {summaries.Sum(s => (long)s.Header.SourceCount)}, {bytes} bytes on flash (payload {payload}, index {index}, {index / (double)Math.Max(1, stored):F3} per stored sample, header and footer {bytes - payload - index}), {payload * 8 / Math.Max(1, pixels):F4} bpp payload, {bytes * 8 / Math.Max(1, pixels):F4} bpp in files"));
                }
            }

            return 0;
        }));
        return command;
    }

    internal sealed record ShardSummary(string Path, long Bytes, DqsHeader Header, long IndexBytes, int[] Histogram, string Sha256)
    {
        /// <summary>The index (with its checksum) per stored sample: 16.25 bytes and more in 1.x, about 4.6 in 2.0.</summary>
        public double IndexBytesPerSample => Header.SampleCount == 0 ? 0 : IndexBytes / (double)Header.SampleCount;

        /// <summary>Payload bits per pixel over every source sample of the shard, dropped ones included.</summary>
        public double BitsPerPixel => Header.SourceCount == 0 ? 0 : Header.PayloadLength * 8.0 / ((double)Header.SourceCount * Header.PixelsPerSample);

        /// <summary>The whole file's bits per source pixel: header, index and footer included.</summary>
        public double FileBitsPerPixel => Header.SourceCount == 0 ? 0 : Bytes * 8.0 / ((double)Header.SourceCount * Header.PixelsPerSample);
    }

    internal static ShardSummary Summarize(string path)
    {
        using var reader = DqsReader.Open(path, verifyPayloadChecksums: false);
        var histogram = new int[9];
        histogram[0] = reader.Header.SourceCount - reader.Count;
        for (var i = 0; i < reader.Count; i++)
        {
            histogram[reader.IsPlanes ? reader.Planes(i) : reader.Bits(i)]++;
        }

        using var stream = File.OpenRead(path);
        var sha = Convert.ToHexStringLower(SHA256.HashData(stream));
        return new ShardSummary(path, reader.FileLength, reader.Header, reader.IndexBytes, histogram, sha);
    }

    private static void WriteText(ShardSummary s)
    {
        var h = s.Header;
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(s.Path);
        Console.WriteLine(string.Create(inv, $"  format      dqs {h.VersionMajor}.{h.VersionMinor}, codec {(h.IsPlanes ? "range-coded planes" : "symmetric-linear")}, shard {h.ShardIndex + 1} of {h.ShardCount}"));
        Console.WriteLine(string.Create(inv, $"  samples     {h.SampleCount} stored of {h.SourceCount} (source {h.FirstSourceIndex}..{h.FirstSourceIndex + h.SourceCount - 1}), {h.Channels}x{h.Height}x{h.Width}, {h.ClassCount} classes"));
        Console.WriteLine(string.Create(inv, $"  channels    mean {string.Join(", ", h.ChannelMean.Select(m => m.ToString("F3", inv)))}; std {string.Join(", ", h.ChannelStandardDeviation.Select(m => m.ToString("F3", inv)))} (0-255)"));
        Console.WriteLine(string.Create(inv, $"  {(h.IsPlanes ? "planes " : "widths ")}     {string.Join("  ", s.Histogram.Select((count, bits) => $"{bits}:{count}"))}"));
        Console.WriteLine(string.Create(inv, $"  bytes       {s.Bytes} on flash (payload {h.PayloadLength}, index {s.IndexBytes}, header and footer {s.Bytes - h.PayloadLength - s.IndexBytes})"));
        Console.WriteLine(string.Create(inv, $"  index       {s.IndexBytesPerSample:F3} bytes per stored sample"));
        Console.WriteLine(string.Create(inv, $"  bits/pixel  {s.BitsPerPixel:F4} payload, {s.FileBitsPerPixel:F4} in the file"));
        Console.WriteLine($"  sha256      {s.Sha256}");
    }

    private static void WriteJson(IReadOnlyList<ShardSummary> summaries)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            if (summaries.Count > 1)
            {
                writer.WriteStartArray();
            }

            foreach (var s in summaries)
            {
                var h = s.Header;
                writer.WriteStartObject();
                writer.WriteString("path", s.Path);
                writer.WriteNumber("version", h.VersionMajor);
                writer.WriteNumber("versionMinor", h.VersionMinor);
                writer.WriteNumber("codec", h.Codec);
                writer.WriteNumber("samples", h.SampleCount);
                writer.WriteNumber("sourceSamples", h.SourceCount);
                writer.WriteNumber("firstSourceIndex", h.FirstSourceIndex);
                writer.WriteNumber("shardIndex", h.ShardIndex);
                writer.WriteNumber("shardCount", h.ShardCount);
                writer.WriteNumber("channels", h.Channels);
                writer.WriteNumber("height", h.Height);
                writer.WriteNumber("width", h.Width);
                writer.WriteNumber("classes", h.ClassCount);
                writer.WriteNumber("bytes", s.Bytes);
                writer.WriteNumber("payloadBytes", h.PayloadLength);
                writer.WriteNumber("indexBytes", s.IndexBytes);
                writer.WriteNumber("indexBytesPerSample", Math.Round(s.IndexBytesPerSample, 6));
                writer.WriteNumber("bitsPerPixel", Math.Round(s.BitsPerPixel, 6));
                writer.WriteNumber("fileBitsPerPixel", Math.Round(s.FileBitsPerPixel, 6));
                writer.WriteStartArray("widthHistogram");
                foreach (var count in s.Histogram)
                {
                    writer.WriteNumberValue(count);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("channelMean");
                foreach (var m in h.ChannelMean)
                {
                    writer.WriteNumberValue(m);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("channelStd");
                foreach (var m in h.ChannelStandardDeviation)
                {
                    writer.WriteNumberValue(m);
                }

                writer.WriteEndArray();
                writer.WriteString("sha256", s.Sha256);
                writer.WriteEndObject();
            }

            if (summaries.Count > 1)
            {
                writer.WriteEndArray();
            }
        }

        stdout.Write("\n"u8);
    }
}
