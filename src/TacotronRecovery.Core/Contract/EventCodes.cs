using TacotronRecovery.Core.Recovery;

namespace TacotronRecovery.Core.Contract;

/// <summary>
/// The <c>Code</c> of every <see cref="Metrics.TrainingEvent"/> the engine, the supervisor and the cmdlets write: the
/// one definition that writers use and readers compare against (docs/engine.md lists them; a test keeps the list in
/// step). Recovery decisions use their <see cref="RecoveryAction"/> name.
/// </summary>
public static class EventCodes
{
    /// <summary>An engine began training (fresh or resumed).</summary>
    public const string TrainingStarted = nameof(TrainingStarted);
    /// <summary>Training reached max_steps.</summary>
    public const string TrainingCompleted = nameof(TrainingCompleted);
    /// <summary>The run stopped on request (with a checkpoint, or without one when the engine died while stopping).</summary>
    public const string TrainingStopped = nameof(TrainingStopped);
    /// <summary>Stop-TacotronTraining -Force killed the run.</summary>
    public const string TrainingKilled = nameof(TrainingKilled);
    /// <summary>The engine's closing event after an exhaustion (the controller's <see cref="Exhausted"/> decision came first).</summary>
    public const string RecoveryExhausted = nameof(RecoveryExhausted);
    /// <summary>At start (mixed precision not off in the config): what the engine runs — bf16, fp16 with loss scaling or fp32 — and why.</summary>
    public const string MixedPrecision = nameof(MixedPrecision);
    /// <summary>fp16: the scaled gradients overflowed; the loss scaler skipped the step and lowered its scale (not a recovery decision).</summary>
    public const string LossScaleOverflow = nameof(LossScaleOverflow);
    /// <summary>Dataset rows were skipped at load.</summary>
    public const string RowsSkipped = nameof(RowsSkipped);
    /// <summary>Training resumed from a checkpoint.</summary>
    public const string Resumed = nameof(Resumed);
    /// <summary>A checkpoint was written.</summary>
    public const string CheckpointSaved = nameof(CheckpointSaved);
    /// <summary>A checkpoint was confirmed Good by the next measurement.</summary>
    public const string CheckpointConfirmed = nameof(CheckpointConfirmed);
    /// <summary>A checkpoint failed verification and was passed over.</summary>
    public const string CheckpointRejected = nameof(CheckpointRejected);
    /// <summary>A rollback restored a checkpoint.</summary>
    public const string RollbackCompleted = nameof(RollbackCompleted);
    /// <summary>A rollback was decided but no verified Good checkpoint exists.</summary>
    public const string RollbackImpossible = nameof(RollbackImpossible);
    /// <summary>A configured fault was injected (tests, demo).</summary>
    public const string FaultInjected = nameof(FaultInjected);

    /// <summary>Recovery decision: <see cref="RecoveryAction.SkipStep"/>.</summary>
    public const string SkipStep = nameof(RecoveryAction.SkipStep);
    /// <summary>Recovery decision: <see cref="RecoveryAction.Rollback"/>.</summary>
    public const string Rollback = nameof(RecoveryAction.Rollback);
    /// <summary>Recovery decision: <see cref="RecoveryAction.SafeModeEnter"/>.</summary>
    public const string SafeModeEnter = nameof(RecoveryAction.SafeModeEnter);
    /// <summary>Recovery decision: <see cref="RecoveryAction.SafeModeStepDown"/>.</summary>
    public const string SafeModeStepDown = nameof(RecoveryAction.SafeModeStepDown);
    /// <summary>Recovery decision: <see cref="RecoveryAction.AttentionCriticalEnter"/>.</summary>
    public const string AttentionCriticalEnter = nameof(RecoveryAction.AttentionCriticalEnter);
    /// <summary>Recovery decision: <see cref="RecoveryAction.GuidedAttentionRaise"/>.</summary>
    public const string GuidedAttentionRaise = nameof(RecoveryAction.GuidedAttentionRaise);
    /// <summary>Recovery decision: <see cref="RecoveryAction.GuidedAttentionDecay"/>.</summary>
    public const string GuidedAttentionDecay = nameof(RecoveryAction.GuidedAttentionDecay);
    /// <summary>Recovery decision: <see cref="RecoveryAction.AttentionCriticalExit"/>.</summary>
    public const string AttentionCriticalExit = nameof(RecoveryAction.AttentionCriticalExit);
    /// <summary>Recovery decision: <see cref="RecoveryAction.ReinitializeAttention"/>.</summary>
    public const string ReinitializeAttention = nameof(RecoveryAction.ReinitializeAttention);
    /// <summary>Recovery decision: <see cref="RecoveryAction.HalveBatch"/>.</summary>
    public const string HalveBatch = nameof(RecoveryAction.HalveBatch);
    /// <summary>Recovery decision: <see cref="RecoveryAction.Restart"/> (a dead engine is restarted).</summary>
    public const string Restart = nameof(RecoveryAction.Restart);
    /// <summary>Recovery decision: <see cref="RecoveryAction.Exhausted"/> (the budget is spent; the run ends Failed).</summary>
    public const string Exhausted = nameof(RecoveryAction.Exhausted);
    /// <summary>Recovery decision: <see cref="RecoveryAction.None"/> (recovery disabled: reported, not acted on).</summary>
    public const string None = nameof(RecoveryAction.None);

    /// <summary>Codes earlier versions wrote and readers still accept in old runs: the supervisor's own restart and budget events.</summary>
    public static IReadOnlyList<string> Legacy { get; } = ["EngineRestart", "RestartBudgetSpent"];

    /// <summary>Every code written now (the constants above), in declaration order.</summary>
    public static IReadOnlyList<string> All { get; } = typeof(EventCodes)
        .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToArray();

    /// <summary>True for an event that ends a run's recovery: Exhausted, RecoveryExhausted, or the legacy RestartBudgetSpent.</summary>
    public static bool IsExhaustion(string? code) => code is Exhausted or RecoveryExhausted or "RestartBudgetSpent";
}

/// <summary>The <c>Kind</c> of a <see cref="Metrics.TrainingEvent"/>: the broad group its <see cref="EventCodes">code</see> belongs to.</summary>
public static class EventKinds
{
    /// <summary>TrainingStarted.</summary>
    public const string Started = nameof(Started);
    /// <summary>TrainingCompleted.</summary>
    public const string Completed = nameof(Completed);
    /// <summary>TrainingStopped.</summary>
    public const string Stopped = nameof(Stopped);
    /// <summary>TrainingKilled.</summary>
    public const string Killed = nameof(Killed);
    /// <summary>The engine's closing event after an exhaustion (the training outcome's name).</summary>
    public const string Exhausted = nameof(Exhausted);
    /// <summary>Checkpoint* events.</summary>
    public const string Checkpoint = nameof(Checkpoint);
    /// <summary>Other engine events (Resumed, Rollback*, FaultInjected).</summary>
    public const string Training = nameof(Training);
    /// <summary>A recovery decision other than a restart.</summary>
    public const string Recovery = nameof(Recovery);
    /// <summary>A restart decision.</summary>
    public const string Restart = nameof(Restart);
    /// <summary>RowsSkipped.</summary>
    public const string Warning = nameof(Warning);

    /// <summary>True for the kinds of recovery decisions.</summary>
    public static bool IsDecision(string? kind) => kind is Recovery or Restart;
}
