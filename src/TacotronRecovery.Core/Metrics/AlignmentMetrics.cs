namespace TacotronRecovery.Core.Metrics;

/// <summary>
/// Alignment and gate metrics at one step (a line of <c>alignment.jsonl</c>). Definitions in docs/metrics.md;
/// all computed on valid frames and tokens only, averaged over the utterances measured.
/// </summary>
public sealed record AlignmentMetrics
{
    /// <summary>Run name.</summary>
    public string? Run { get; init; }
    /// <summary>Step measured.</summary>
    public int Step { get; init; }
    /// <summary>Wall-clock time.</summary>
    public DateTimeOffset Time { get; init; }
    /// <summary>train (teacher-forced batch) or validation (free-running held-out sentences).</summary>
    public string Source { get; init; } = "train";
    /// <summary>Best-monotonic-path band mass, chance-corrected, times token coverage (0..1).</summary>
    public double Diagonality { get; init; }
    /// <summary>Mean over decoder steps of the largest attention weight (0..1).</summary>
    public double FocusRate { get; init; }
    /// <summary>Mean over tokens of the largest attention weight any decoder step gives it (0..1).</summary>
    public double Coverage { get; init; }
    /// <summary>Share of decoder steps whose argmax token does not move backwards (0..1).</summary>
    public double Monotonicity { get; init; }
    /// <summary>Balanced accuracy of sigmoid(gate) &gt; 0.5 on valid frames (0..1).</summary>
    public double GateAccuracy { get; init; }
    /// <summary>Free-running validation: share of utterances that stopped near the true end with attention at the last tokens.</summary>
    public double? StopAccuracy { get; init; }
    /// <summary>Validation: teacher-forced mel loss after the postnet.</summary>
    public double? ValidationMelLoss { get; init; }
    /// <summary>Quality score, 0..100 %.</summary>
    public double Quality { get; init; }
    /// <summary>Share of utterances whose attention reached the last tokens long before the audio ended and stayed there (end-of-sentence stall), when measured.</summary>
    public double? EndStallRate { get; init; }
    /// <summary>
    /// Free-running: share of sentences the stall detector ended (the gate did not fire while the attention rested at the
    /// last tokens; <see cref="Health.StopReason.Stall"/>), when measured.
    /// </summary>
    public double? StallRate { get; init; }
}
