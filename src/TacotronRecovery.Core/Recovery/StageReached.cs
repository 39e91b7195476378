namespace TacotronRecovery.Core.Recovery;

/// <summary>A stage of the <see cref="RecoveryPlan"/> reached, with the metrics that showed it.</summary>
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
    /// <summary>Diagonality at that step (0..1).</summary>
    public double Diagonality { get; init; }
    /// <summary>GateAccuracy at that step (0..1).</summary>
    public double GateAccuracy { get; init; }
    /// <summary>Quality at that step (0..100).</summary>
    public double Quality { get; init; }
    /// <summary>Last finite total loss (NaN when none was seen).</summary>
    public double Loss { get; init; }
}
