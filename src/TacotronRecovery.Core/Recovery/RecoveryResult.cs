namespace TacotronRecovery.Core.Recovery;

/// <summary>How a recovery ended.</summary>
public enum RecoveryOutcome
{
    /// <summary>Every target of the plan's Done stage was met.</summary>
    Recovered,
    /// <summary>The targets were not met (steps ran out, or recovery was exhausted).</summary>
    Failed,
}

/// <summary>The last object <c>Invoke-EmergencyRecovery</c> emits: outcome, effort, final metrics, where the good checkpoint is.</summary>
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
    /// <summary>Final Diagonality (0..1).</summary>
    public double Diagonality { get; init; }
    /// <summary>Final GateAccuracy (0..1).</summary>
    public double GateAccuracy { get; init; }
    /// <summary>Final Quality (0..100).</summary>
    public double Quality { get; init; }
    /// <summary>Final total loss.</summary>
    public double Loss { get; init; }
    /// <summary>Path of the newest checkpoint marked Good (null when none).</summary>
    public string? GoodCheckpoint { get; init; }
    /// <summary>Recovery decisions taken (skips included).</summary>
    public int Decisions { get; init; }
    /// <summary>Why it failed (the controller's diagnosis, or the unmet targets); null when recovered.</summary>
    public string? Diagnosis { get; init; }
}
