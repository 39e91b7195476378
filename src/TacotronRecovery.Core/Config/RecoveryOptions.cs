namespace TacotronRecovery.Core.Config;

/// <summary>The automatic recovery controller (levels in docs/recovery.md).</summary>
public sealed record RecoveryOptions
{
    /// <summary>Recover automatically. Off: incidents are still detected and reported.</summary>
    public bool Enabled { get; init; } = true;
    /// <summary>Window, in steps, in which skips are counted.</summary>
    public int SkipWindowSteps { get; init; } = 100;
    /// <summary>Skips within the window that trigger a rollback.</summary>
    public int MaxSkipsInWindow { get; init; } = 5;
    /// <summary>A loss above this multiple of its rolling median is a spike.</summary>
    public double SpikeFactor { get; init; } = 3.0;
    /// <summary>A spike that lasts this many steps triggers a rollback.</summary>
    public int SpikePersistSteps { get; init; } = 20;
    /// <summary>
    /// fp16 mixed precision: consecutive gradient overflows (steps the loss scaler skipped while lowering its scale) after
    /// which each further one counts as a non-finite step (skip window, rollback, safe mode). Fewer are the scaler's own
    /// business, reported as LossScaleOverflow events.
    /// </summary>
    public int OverflowPersistSteps { get; init; } = 20;
    /// <summary>Highest safe-mode level.</summary>
    public int MaxSafeModeLevel { get; init; } = 4;
    /// <summary>Stable steps after which the safe-mode level steps down by one.</summary>
    public int StableStepsToStepDown { get; init; } = 300;
    /// <summary>Steps after a decision during which the same level does not fire again.</summary>
    public int CooldownSteps { get; init; } = 50;
    /// <summary>Learning-rate floor in safe mode.</summary>
    public double LearningRateFloor { get; init; } = 1e-7;
    /// <summary>Clip-threshold floor in safe mode.</summary>
    public double ClipThresholdFloor { get; init; } = 0.01;
    /// <summary>Batch size never halves below this (only on out-of-memory).</summary>
    public int MinBatchSize { get; init; } = 2;
    /// <summary>Steps before attention checks start (attention needs time to form).</summary>
    public int AttentionWarmupSteps { get; init; } = 500;
    /// <summary>Diagonality below this after warm-up enters attention critical mode.</summary>
    public double CriticalDiagonality { get; init; } = 0.2;
    /// <summary>Diagonality above this, held for <see cref="AttentionExitSteps"/>, leaves critical mode.</summary>
    public double ExitDiagonality { get; init; } = 0.5;
    /// <summary>Steps Diagonality must stay above the exit level.</summary>
    public int AttentionExitSteps { get; init; } = 200;
    /// <summary>Steps critical mode may run without progress before attention is rolled back and re-initialised.</summary>
    public int AttentionBudgetSteps { get; init; } = 1000;
    /// <summary>Engine restarts (crash, kill, out-of-memory) allowed before recovery is exhausted.</summary>
    public int MaxRestarts { get; init; } = 3;
    /// <summary>Rollbacks allowed before recovery is exhausted.</summary>
    public int MaxRollbacks { get; init; } = 6;
    /// <summary>Attention re-initialisations (after rolling back to the last well-aligned checkpoint) allowed before recovery is exhausted.</summary>
    public int MaxAttentionRetries { get; init; } = 2;
}
