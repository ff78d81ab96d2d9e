namespace DatasetQuant.Onnx.Generators;

/// <summary>
/// Draws class-conditional samples from a generator described by a <see cref="GeneratorManifest"/>. Seeded: the same
/// seed, options and model give the same bytes. Buffers are allocated once; sampling allocates nothing per sample.
/// One sampler is for one thread at a time.
/// </summary>
public sealed class GeneratorSampler : IDisposable
{
    private readonly OnnxSession _session;
    private readonly bool _ownsSession;
    private readonly OnnxBinding _binding;
    private readonly float[] _noise;
    private readonly long[] _labels;
    private readonly float[] _output;
    private readonly float[] _scale;
    private readonly float[] _offset;
    private readonly LabelSchedule _schedule;
    private readonly GeneratorOutputScale _outputScale;
    private DeterministicRandom _random;
    private int _boundBatch;

    public GeneratorSampler(OnnxSession session, GeneratorManifest manifest, GeneratorSamplerOptions? options = null, string? manifestSource = null)
        : this(session, manifest, options ?? new GeneratorSamplerOptions(), manifestSource ?? "(manifest)", ownsSession: false)
    {
    }

    private GeneratorSampler(OnnxSession session, GeneratorManifest manifest, GeneratorSamplerOptions options, string source, bool ownsSession)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize, nameof(options.BatchSize));
        manifest.Validate(session, source);
        _session = session;
        _ownsSession = ownsSession;
        Manifest = manifest;
        BatchSize = options.BatchSize;
        _outputScale = options.Output;
        _random = new DeterministicRandom(options.Seed);
        _schedule = new LabelSchedule(manifest.ClassCount, options.ClassWeights);
        _noise = new float[checked(BatchSize * manifest.NoiseSize)];
        _labels = new long[BatchSize];
        _output = new float[checked(BatchSize * manifest.SampleSize)];
        (_scale, _offset) = Affine(manifest, options.Output);

        _binding = session.CreateBinding();
        _binding.BindInput(manifest.NoiseInput, _noise.AsMemory(), BatchSize, manifest.NoiseSize);
        if (manifest.Conditioning == GeneratorManifest.LabelInput)
        {
            _binding.BindInput(manifest.LabelInputName!, _labels.AsMemory(), BatchSize);
        }

        _binding.BindOutput(manifest.Output, _output.AsMemory(), BatchSize, manifest.Channels, manifest.Height, manifest.Width);
        _boundBatch = BatchSize;
    }

    public GeneratorManifest Manifest { get; }

    public int BatchSize { get; }

    /// <summary>Floats per sample (C·H·W).</summary>
    public int SampleSize => Manifest.SampleSize;

    public OnnxSession Session => _session;

    /// <summary>Opens <paramref name="modelPath"/> with the manifest beside it (<c>G.onnx</c> → <c>G.json</c>).</summary>
    public static GeneratorSampler Open(string modelPath, GeneratorSamplerOptions? options = null)
    {
        options ??= new GeneratorSamplerOptions();
        var manifestPath = GeneratorManifest.PathFor(modelPath);
        var manifest = GeneratorManifest.Load(manifestPath);
        var session = OnnxSession.Load(modelPath, options.Session);
        try
        {
            return new GeneratorSampler(session, manifest, options, manifestPath, ownsSession: true);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Fills <paramref name="labels"/>.Length samples: classes from the schedule into <paramref name="labels"/>, pixels
    /// ([count, C, H, W]) into <paramref name="destination"/>.
    /// </summary>
    public void Sample(Span<float> destination, Span<int> labels)
    {
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = _schedule.Next(ref _random);
        }

        SampleClasses(labels, destination);
    }

    /// <summary>Generates one sample per entry of <paramref name="labels"/> (classes chosen by the caller).</summary>
    public void SampleClasses(ReadOnlySpan<int> labels, Span<float> destination)
    {
        var sampleSize = SampleSize;
        if (destination.Length < (long)labels.Length * sampleSize)
        {
            throw new ArgumentException($"Destination holds {destination.Length} floats; {labels.Length} samples need {(long)labels.Length * sampleSize}.", nameof(destination));
        }

        for (var start = 0; start < labels.Length; start += BatchSize)
        {
            var count = Math.Min(BatchSize, labels.Length - start);
            RunBatch(labels.Slice(start, count));
            WriteOutput(count, destination.Slice(start * sampleSize, count * sampleSize));
        }
    }

    public void Dispose()
    {
        _binding.Dispose();
        if (_ownsSession)
        {
            _session.Dispose();
        }
    }

    private void RunBatch(ReadOnlySpan<int> labels)
    {
        var z = Manifest.NoiseSize;
        var classes = Manifest.ClassCount;
        var oneHot = Manifest.Conditioning == GeneratorManifest.OneHotPrefix;
        for (var n = 0; n < labels.Length; n++)
        {
            var label = labels[n];
            if ((uint)label >= (uint)classes)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), $"Label {label} is outside 0..{classes - 1}.");
            }

            var row = _noise.AsSpan(n * z, z);
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = _random.NextGaussian();
            }

            if (oneHot)
            {
                // The official DiM interface: the first C noise entries are replaced by the one-hot label.
                row[..classes].Clear();
                row[label] = 1f;
            }

            _labels[n] = label;
        }

        if (labels.Length != _boundBatch)
        {
            _binding.SetBatchSize(labels.Length);
            _boundBatch = labels.Length;
        }

        _binding.Run();
    }

    private void WriteOutput(int count, Span<float> destination)
    {
        var plane = Manifest.Height * Manifest.Width;
        var channels = Manifest.Channels;
        for (var n = 0; n < count; n++)
        {
            for (var c = 0; c < channels; c++)
            {
                var offset = (n * channels + c) * plane;
                var target = destination.Slice(offset, plane);
                PixelAffine.Apply(_output.AsSpan(offset, plane), target, _scale[c], _offset[c]);
                if (_outputScale == GeneratorOutputScale.UnitRange)
                {
                    Clamp01(target);
                }
            }
        }
    }

    private static void Clamp01(Span<float> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Math.Clamp(values[i], 0f, 1f);
        }
    }

    private static (float[] Scale, float[] Offset) Affine(GeneratorManifest m, GeneratorOutputScale output)
    {
        var scale = new float[m.Channels];
        var offset = new float[m.Channels];
        var lo = m.ValueRange[0];
        var span = m.ValueRange[1] - m.ValueRange[0];
        for (var c = 0; c < m.Channels; c++)
        {
            (scale[c], offset[c]) = output switch
            {
                GeneratorOutputScale.Raw => (1f, 0f),
                GeneratorOutputScale.UnitRange => (1f / span, -lo / span),
                _ => (1f / (span * m.Std[c]), (-lo / span - m.Mean[c]) / m.Std[c]),
            };
        }

        return (scale, offset);
    }
}
