namespace TacotronRecovery.Core.Recovery;

/// <summary>What the recovery controller decided. Levels and thresholds: docs/recovery.md.</summary>
public enum RecoveryAction
{
    /// <summary>Nothing to do (after <see cref="Exhausted"/> every call answers this; also reports incidents while recovery is disabled).</summary>
    None,
    /// <summary>Do not take the optimizer step (non-finite loss or gradient, non-finite weights, out-of-memory); zero the gradients.</summary>
    SkipStep,
    /// <summary>Restore a checkpoint (<see cref="RecoveryDecision.Target"/> says which) and call <see cref="RecoveryController.OnRollbackCompleted"/>.</summary>
    Rollback,
    /// <summary>Safe-mode level raised by one: lower learning rate and clip threshold; mixed precision and MMI off and guided attention on, where the config had them otherwise.</summary>
    SafeModeEnter,
    /// <summary>Safe-mode level lowered by one after a stable stretch (the way back to full speed).</summary>
    SafeModeStepDown,
    /// <summary>Diagonality fell below the critical level after warm-up: guided attention weight raised.</summary>
    AttentionCriticalEnter,
    /// <summary>No alignment progress: guided attention weight raised again (capped).</summary>
    GuidedAttentionRaise,
    /// <summary>Diagonality held above the exit level: guided attention weight decayed toward its base.</summary>
    GuidedAttentionDecay,
    /// <summary>Guided attention weight back at its base: attention critical mode left.</summary>
    AttentionCriticalExit,
    /// <summary>Re-initialise the attention layers (always right after a <see cref="Rollback"/> to the last well-aligned checkpoint).</summary>
    ReinitializeAttention,
    /// <summary>Out of memory: batch size halved (never below the minimum).</summary>
    HalveBatch,
    /// <summary>The engine process died: restart it from the last good checkpoint one safe-mode level higher.</summary>
    Restart,
    /// <summary>A budget is spent: stop cleanly, keep everything, report the diagnosis.</summary>
    Exhausted,
}

/// <summary>Which checkpoint a rollback restores.</summary>
public enum RollbackTarget
{
    /// <summary>The newest checkpoint marked Good (hash verified, finite weights, healthy at save).</summary>
    LastGood,
    /// <summary>The newest Good checkpoint whose alignment was good at save (Diagonality at or above the exit level); the trainer falls back to <see cref="LastGood"/> when there is none.</summary>
    LastWellAligned,
}
