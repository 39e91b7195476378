namespace TacotronRecovery.Core.Config;

/// <summary>Deliberate faults, for tests and the demo. Every field off (null) by default.</summary>
public sealed record FaultOptions
{
    /// <summary>Make a loss component NaN at this step.</summary>
    public int? NanLossAtStep { get; init; }
    /// <summary>Which component: mel, mel_postnet, gate, guided_attention or mmi (only with training.mmi on).</summary>
    public string NanLossComponent { get; init; } = "mel";
    /// <summary>Steps the NaN lasts (a NaN storm when &gt; 1).</summary>
    public int NanLossSteps { get; init; } = 1;
    /// <summary>Multiply the learning rate by <see cref="LrExplosionFactor"/> from this step.</summary>
    public int? LrExplosionAtStep { get; init; }
    /// <summary>Learning-rate explosion factor.</summary>
    public double LrExplosionFactor { get; init; } = 1e4;
    /// <summary>At this step, corrupt the newest Good checkpoint file (the one a rollback would restore).</summary>
    public int? CorruptCheckpointAtStep { get; init; }
    /// <summary>Collapse attention at this step.</summary>
    public int? AttentionCollapseAtStep { get; init; }
    /// <summary>reinit (random re-initialisation) or zero (all attention weights zero).</summary>
    public string AttentionCollapseMode { get; init; } = "reinit";
    /// <summary>Kill the engine process (hard exit, no checkpoint) at this step.</summary>
    public int? KillAtStep { get; init; }
    /// <summary>
    /// Kill every engine that reaches <see cref="KillAtStep"/>, not only the first: a crash loop (each restart resumes
    /// from a checkpoint before that step and dies there again) until the restart budget is spent.
    /// </summary>
    public bool KillEveryTime { get; init; }
}
