namespace TacotronRecovery.Core.Metrics;

/// <summary>
/// One training step (a line of <c>metrics.jsonl</c>). Loss components are masked means over valid frames and
/// tokens only; a non-finite value is kept as NaN/Infinity so the incident stays visible.
/// </summary>
public sealed record StepMetrics
{
    /// <summary>Run name.</summary>
    public string? Run { get; init; }
    /// <summary>Optimizer step number (1-based; skipped steps count).</summary>
    public int Step { get; init; }
    /// <summary>Wall-clock time the step ended.</summary>
    public DateTimeOffset Time { get; init; }
    /// <summary>Epoch.</summary>
    public int Epoch { get; init; }
    /// <summary>Learning rate used (after schedule and safe mode).</summary>
    public double LearningRate { get; init; }
    /// <summary>Weighted sum of the components.</summary>
    public double Loss { get; init; }
    /// <summary>Masked MSE of the mel before the postnet.</summary>
    public double MelLoss { get; init; }
    /// <summary>Masked MSE of the mel after the postnet.</summary>
    public double MelPostnetLoss { get; init; }
    /// <summary>Masked BCE of the gate.</summary>
    public double GateLoss { get; init; }
    /// <summary>Guided attention loss (unweighted).</summary>
    public double GuidedAttentionLoss { get; init; }
    /// <summary>Weight applied to the guided attention loss at this step.</summary>
    public double GuidedAttentionWeight { get; init; }
    /// <summary>
    /// MMI: the CTC recogniser's loss (unweighted; per decoder step, batch mean) when MMI was on at this step; null (the
    /// key absent from the line) when it was off: not configured, or turned off by safe mode. Lines written before MMI
    /// existed read as null.
    /// </summary>
    public double? MmiLoss { get; init; }
    /// <summary>
    /// MMI: the gradient-adaptive factor applied at this step (in (0, 1]: the share of the weighted CTC gradient that
    /// entered the decoder); null when MMI was off.
    /// </summary>
    public double? MmiFactor { get; init; }
    /// <summary>Global gradient L2 norm before clipping.</summary>
    public double GradNorm { get; init; }
    /// <summary>Clip threshold in force.</summary>
    public double ClipThreshold { get; init; }
    /// <summary>True when no optimizer step was taken (non-finite loss or gradient).</summary>
    public bool Skipped { get; init; }
    /// <summary>
    /// True when fp16 gradients overflowed at this step and the loss scaler handled it (step skipped, scale lowered):
    /// the scaler at work, not a NaN incident, so health checks neither count it as a non-finite gradient nor as a skip.
    /// Null otherwise, including an overflow that persisted past <c>recovery.overflow_persist_steps</c> (the controller
    /// counted it, and so do the health checks).
    /// </summary>
    public bool? LossScaleOverflow { get; init; }
    /// <summary>Safe-mode level (0 = normal).</summary>
    public int SafeModeLevel { get; init; }
    /// <summary>Normal, SafeMode, AttentionCritical or SafeMode+AttentionCritical.</summary>
    public string Mode { get; init; } = "Normal";
    /// <summary>Utterances in the batch.</summary>
    public int BatchSize { get; init; }
    /// <summary>Wall time of the step, seconds.</summary>
    public double StepSeconds { get; init; }

    /// <summary>True when the total loss and every loss component (MMI's when it was on) are finite; the gradient norm aside.</summary>
    public bool LossesFinite() =>
        double.IsFinite(Loss) && double.IsFinite(MelLoss) && double.IsFinite(MelPostnetLoss) && double.IsFinite(GateLoss)
        && double.IsFinite(GuidedAttentionLoss) && (MmiLoss is not { } mmi || double.IsFinite(mmi));
}
