namespace TacotronRecovery.Core.Recovery;

/// <summary>A stage of the <see cref="RecoveryPlan"/> reached, with the validation (free-running) metrics that showed it.</summary>
public sealed record StageReached
{
    /// <summary>Run name.</summary>
    public string? Run { get; init; }
    /// <summary>Which stage.</summary>
    public RecoveryStageId Stage { get; init; }
    /// <summary>Short name of the stage.</summary>
    public string Name { get; init; } = "";
    /// <summary>Step at which it was reached (absolute).</summary>
    public int Step { get; init; }
    /// <summary>Steps since the start of the recovery.</summary>
    public int StepsFromStart { get; init; }
    /// <summary>Wall time since the start of the recovery (from the metrics' timestamps).</summary>
    public TimeSpan Elapsed { get; init; }
    /// <summary>Steps by which the plan forecast this stage.</summary>
    public int ForecastSteps { get; init; }
    /// <summary>True when reached no later than forecast.</summary>
    public bool OnSchedule { get; init; }
    /// <summary>Where the figures come from: <c>validation</c> (held-out sentences, free-running).</summary>
    public string Source { get; init; } = Metrics.AlignmentMetrics.Sources.Validation;
    /// <summary>Held-out sentences decoded.</summary>
    public int? Sentences { get; init; }
    /// <summary>Diagonality at that step (0..1).</summary>
    public double Diagonality { get; init; }
    /// <summary>GateAccuracy at that step (0..1).</summary>
    public double GateAccuracy { get; init; }
    /// <summary>Quality at that step (0..100).</summary>
    public double Quality { get; init; }
    /// <summary>Share of sentences ending within ±10 % of their length (0..1).</summary>
    public double? LengthWithin10 { get; init; }
    /// <summary>Sentences that hit the decoder step limit.</summary>
    public int? StepLimitHits { get; init; }
    /// <summary>MCD-DTW against the recordings, dB.</summary>
    public double? McdDtw { get; init; }
    /// <summary>Last finite total loss (NaN when none was seen).</summary>
    public double Loss { get; init; }
}
