namespace DatasetQuant.Agent.Configuration;

/// <summary>The <c>FineTune</c> section: what starts an offline fine-tuning run on the device.</summary>
public sealed class FineTuneOptions
{
    public const string SectionName = "FineTune";

    /// <summary>Run after a new verified dataset has been stored.</summary>
    public bool OnNewData { get; set; } = true;

    /// <summary>Run when the coordinator or an operator publishes a fine-tune command to this device's command topic.</summary>
    public bool OnCommand { get; set; } = true;

    /// <summary>Run when the board's button is pressed.</summary>
    public bool OnButton { get; set; } = true;

    /// <summary>Requests closer together than this after a run are merged into one later run.</summary>
    public int MinimumIntervalSeconds { get; set; } = 60;

    /// <summary>Passes over the local samples per run; a run continues from the previous model.</summary>
    public int Epochs { get; set; } = 2;

    /// <summary>Fraction of the local samples kept out of training to measure the accuracy reported in the state.</summary>
    public double HeldOutFraction { get; set; } = 0.1;

    /// <summary>
    /// A DiM generator (G.onnx with its G.json manifest) whose samples join the shards. Empty: the newest generator the
    /// coordinator pushed (a dataset of kind <c>generator</c> under the data directory), if any.
    /// </summary>
    public string? GeneratorPath { get; set; }

    /// <summary>
    /// Share of each epoch drawn from the generator. Empty: the generator manifest's mixing rule for the shard bytes
    /// held (measured on the bytes-versus-accuracy frontier; 0 where synthetic samples did not help), or none
    /// without a rule.
    /// </summary>
    public double? SyntheticRatio { get; set; }
}
