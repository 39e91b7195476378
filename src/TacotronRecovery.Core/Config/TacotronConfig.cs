namespace TacotronRecovery.Core.Config;

/// <summary>
/// The whole configuration of a run, as read from one YAML file (sections in snake_case: <c>data</c>, <c>model</c>,
/// <c>training</c>, <c>guided_attention</c>, <c>recovery</c>, <c>health</c>, <c>telegram</c>, <c>faults</c>).
/// Every default here is the documented default; <c>samples/config.yaml</c> shows them all.
/// </summary>
public sealed record TacotronConfig
{
    /// <summary>Run name (folder under the runs root). Default: the config file's base name, else "run".</summary>
    public string? Name { get; init; }

    /// <summary>Root folder of run directories. Default: <c>runs</c> (relative to the working directory).</summary>
    public string RunsRoot { get; init; } = "runs";

    /// <summary>Dataset and audio features.</summary>
    public DataOptions Data { get; init; } = new();

    /// <summary>Model dimensions (a preset plus overrides).</summary>
    public ModelOptions Model { get; init; } = new();

    /// <summary>Optimiser, schedule, batching, checkpoints and validation.</summary>
    public TrainingOptions Training { get; init; } = new();

    /// <summary>Guided attention loss.</summary>
    public GuidedAttentionOptions GuidedAttention { get; init; } = new();

    /// <summary>Automatic recovery controller.</summary>
    public RecoveryOptions Recovery { get; init; } = new();

    /// <summary>Health detectors and their thresholds.</summary>
    public HealthOptions Health { get; init; } = new();

    /// <summary>Telegram notifications.</summary>
    public TelegramOptions Telegram { get; init; } = new();

    /// <summary>Fault injection, for tests and the demo. All off by default.</summary>
    public FaultOptions Faults { get; init; } = new();
}
