namespace TacotronRecovery.Core.Recovery;

/// <summary>
/// Everything the <see cref="RecoveryController"/> remembers, as plain serialisable data (System.Text.Json, e.g. with
/// <c>RunJson.Options</c>), so that recovery survives checkpoints and engine restarts: store it with the checkpoint or
/// the run state and pass it back to the controller's constructor. Timers count observed steps (<see cref="Ticks"/>),
/// which only ever grow, so a rollback that rewinds the step number does not reopen a cooldown.
/// </summary>
public sealed class RecoveryState
{
    /// <summary>Schema version of this record.</summary>
    public int Version { get; set; } = 1;
    /// <summary>Number of <see cref="RecoveryController.OnStep"/> calls so far (monotonic).</summary>
    public long Ticks { get; set; }
    /// <summary>Last step observed (step or alignment).</summary>
    public int LastStep { get; set; }
    /// <summary>Scheduled learning rate last passed in by the trainer.</summary>
    public double ScheduledLearningRate { get; set; }
    /// <summary>Safe-mode level (0 = normal).</summary>
    public int SafeModeLevel { get; set; }
    /// <summary>Current batch size (halved on out-of-memory).</summary>
    public int BatchSize { get; set; }
    /// <summary>Rollbacks so far (both targets).</summary>
    public int Rollbacks { get; set; }
    /// <summary>Engine restarts so far.</summary>
    public int Restarts { get; set; }
    /// <summary>Attention re-initialisations so far.</summary>
    public int AttentionRetries { get; set; }
    /// <summary>True once a budget is spent.</summary>
    public bool Exhausted { get; set; }
    /// <summary>Why recovery is exhausted.</summary>
    public string? Diagnosis { get; set; }
    /// <summary>Ticks of the skipped steps still inside the skip window.</summary>
    public List<long> SkipTicks { get; set; } = [];
    /// <summary>Recent finite, non-spike total losses (the baseline of the spike detector), oldest first.</summary>
    public List<double> RecentTotals { get; set; } = [];
    /// <summary>Consecutive spike steps.</summary>
    public int SpikeStreak { get; set; }
    /// <summary>training.mixed_precision as the engine resolved it for its device (auto → bf16, fp16 or off); null before an engine ran.</summary>
    public Config.MixedPrecisionMode? MixedPrecision { get; set; }
    /// <summary>Consecutive steps whose fp16 gradients overflowed (the loss scaler skipped them; see <see cref="StepObservation.GradientOverflow"/>).</summary>
    public int OverflowStreak { get; set; }
    /// <summary>Consecutive stable steps (finite, no spike, no out-of-memory).</summary>
    public int StableSteps { get; set; }
    /// <summary>Tick of the last rollback (either target), for the rollback cooldown.</summary>
    public long? LastRollbackTick { get; set; }
    /// <summary>Tick of the last safe-mode ladder decision (rollback, level change, batch halving, restart), for the step-down cooldown.</summary>
    public long? LastLadderTick { get; set; }
    /// <summary>Tick of the last incident reported while recovery was disabled (so a storm reports once per cooldown).</summary>
    public long? LastDisabledReportTick { get; set; }
    /// <summary>In attention critical mode.</summary>
    public bool AttentionCritical { get; set; }
    /// <summary>Guided-attention multiplier of the base weight in critical mode (1 outside it).</summary>
    public double AttentionMultiplier { get; set; } = 1;
    /// <summary>True once the multiplier has been decayed in this critical episode (a dip then holds instead of raising).</summary>
    public bool AttentionDecaying { get; set; }
    /// <summary>Best Diagonality since critical mode began or since the last attention re-initialisation (negative: not measured since the re-initialisation).</summary>
    public double BestDiagonality { get; set; }
    /// <summary>Step critical mode began.</summary>
    public int CriticalSinceStep { get; set; }
    /// <summary>Step of the last Diagonality progress in critical mode (the attention budget counts from here).</summary>
    public int LastProgressStep { get; set; }
    /// <summary>First step of the current stretch with Diagonality at or above the exit level.</summary>
    public int? AboveExitSinceStep { get; set; }
    /// <summary>Step of the last guided-attention raise, for its cooldown.</summary>
    public int? LastRaiseStep { get; set; }

    /// <summary>A deep copy.</summary>
    public RecoveryState Clone()
    {
        var copy = (RecoveryState)MemberwiseClone();
        copy.SkipTicks = [.. SkipTicks];
        copy.RecentTotals = [.. RecentTotals];
        return copy;
    }
}
