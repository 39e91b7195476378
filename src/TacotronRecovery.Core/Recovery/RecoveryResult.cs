namespace TacotronRecovery.Core.Recovery;

/// <summary>How a recovery ended.</summary>
public enum RecoveryOutcome
{
    /// <summary>Every Done target was met on validation (held-out sentences, free-running), up to the last validation.</summary>
    Recovered,
    /// <summary>The targets were not met (steps ran out, or recovery was exhausted).</summary>
    Failed,
}

/// <summary>
/// The last object <c>Invoke-EmergencyRecovery</c> emits: outcome, effort, final metrics, where the good checkpoint is.
/// Every figure is from the last validation record (<see cref="Source"/>, <see cref="ValidationStep"/>): held-out
/// sentences decoded one at a time, free-running; training-batch figures never appear here.
/// </summary>
public sealed record RecoveryResult
{
    /// <summary>Run name.</summary>
    public string? Run { get; init; }
    /// <summary>Recovered or Failed.</summary>
    public RecoveryOutcome Outcome { get; init; }
    /// <summary>Training steps the recovery took.</summary>
    public int Steps { get; init; }
    /// <summary>Wall time the recovery took, minutes.</summary>
    public double Minutes { get; init; }
    /// <summary>Where the figures come from: <c>validation</c> (free-running held-out sentences).</summary>
    public string Source { get; init; } = Metrics.AlignmentMetrics.Sources.Validation;
    /// <summary>Step of the validation record the figures come from (null when none was made).</summary>
    public int? ValidationStep { get; init; }
    /// <summary>Held-out sentences that validation decoded.</summary>
    public int? Sentences { get; init; }
    /// <summary>Final Diagonality (0..1).</summary>
    public double Diagonality { get; init; }
    /// <summary>Final GateAccuracy (0..1).</summary>
    public double GateAccuracy { get; init; }
    /// <summary>Final Quality (0..100).</summary>
    public double Quality { get; init; }
    /// <summary>Share of sentences that ended within ±10 % of their length (0..1).</summary>
    public double? LengthWithin10 { get; init; }
    /// <summary>StopAccuracy: share that stopped within ±max(3 steps, 5 %) with attention at the end (0..1).</summary>
    public double? StopAccuracy { get; init; }
    /// <summary>Sentences that hit the decoder step limit (never stopped).</summary>
    public int? StepLimitHits { get; init; }
    /// <summary>Mean MCD-DTW against the recordings, dB.</summary>
    public double? McdDtw { get; init; }
    /// <summary>Final total training loss (the last finite step).</summary>
    public double Loss { get; init; }
    /// <summary>Path of the newest checkpoint marked Good (null when none).</summary>
    public string? GoodCheckpoint { get; init; }
    /// <summary>Recovery decisions taken (skips included).</summary>
    public int Decisions { get; init; }
    /// <summary>The Done targets the last validation record misses (empty when recovered).</summary>
    public IReadOnlyList<string> Unmet { get; init; } = [];
    /// <summary>Why it failed (the controller's diagnosis and the unmet validation targets); null when recovered.</summary>
    public string? Diagnosis { get; init; }
}
