namespace TacotronRecovery.Core.Metrics;

/// <summary>
/// Alignment and gate metrics at one step (a line of <c>alignment.jsonl</c>). Definitions in docs/metrics.md;
/// all computed on valid frames and tokens only, averaged over the utterances measured.
/// </summary>
public sealed record AlignmentMetrics
{
    /// <summary>The values of <see cref="Source"/>.</summary>
    public static class Sources
    {
        /// <summary>A teacher-forced training batch.</summary>
        public const string Train = "train";
        /// <summary>Held-out sentences, free-running.</summary>
        public const string Validation = "validation";
    }

    /// <summary>Run name.</summary>
    public string? Run { get; init; }
    /// <summary>Step measured.</summary>
    public int Step { get; init; }
    /// <summary>Wall-clock time.</summary>
    public DateTimeOffset Time { get; init; }
    /// <summary>
    /// Where the figures come from: <see cref="Sources.Train"/> (a teacher-forced training batch: the controller's fast
    /// signal, never a verdict) or <see cref="Sources.Validation"/> (held-out sentences decoded one at a time,
    /// free-running, the gate deciding the end: what every verdict judges).
    /// </summary>
    public string Source { get; init; } = Sources.Train;
    /// <summary>True for a <see cref="Sources.Validation"/> record.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsValidation => string.Equals(Source, Sources.Validation, StringComparison.OrdinalIgnoreCase);
    /// <summary>Best-monotonic-path band mass, chance-corrected, times token coverage (0..1).</summary>
    public double Diagonality { get; init; }
    /// <summary>Mean over decoder steps of the largest attention weight (0..1).</summary>
    public double FocusRate { get; init; }
    /// <summary>Mean over tokens of the largest attention weight any decoder step gives it (0..1).</summary>
    public double Coverage { get; init; }
    /// <summary>Share of decoder steps whose argmax token does not move backwards (0..1).</summary>
    public double Monotonicity { get; init; }
    /// <summary>
    /// Balanced accuracy of sigmoid(gate) &gt; 0.5 (0..1): on the valid frames of a training batch (train), or on the
    /// free-running decoder steps of the held-out sentences (validation, <see cref="Health.GateMetrics.FreeRunningBalancedAccuracy"/>).
    /// </summary>
    public double GateAccuracy { get; init; }
    /// <summary>Free-running validation: share of utterances that stopped near the true end with attention at the last tokens.</summary>
    public double? StopAccuracy { get; init; }
    /// <summary>Validation: teacher-forced mel loss after the postnet.</summary>
    public double? ValidationMelLoss { get; init; }
    /// <summary>Quality score, 0..100 %.</summary>
    public double Quality { get; init; }
    /// <summary>Share of utterances whose attention reached the last tokens long before the audio ended and stayed there (end-of-sentence stall), when measured.</summary>
    public double? EndStallRate { get; init; }
    /// <summary>Validation: held-out sentences decoded (each free-running, on its own).</summary>
    public int? Sentences { get; init; }
    /// <summary>Validation: share of sentences whose gate ended them within ±10 % of the recording's length (0..1).</summary>
    public double? LengthWithin10 { get; init; }
    /// <summary>Validation: sentences whose gate never fired within the decoder step limit.</summary>
    public int? StepLimitHits { get; init; }
    /// <summary>Validation: mean mel cepstral distortion with DTW against the recordings, dB (from our log mel; docs/metrics.md).</summary>
    public double? McdDtw { get; init; }
    /// <summary>
    /// Free-running: share of sentences the stall detector ended (the gate did not fire while the attention rested at the
    /// last tokens; <see cref="Health.StopReason.Stall"/>), when measured.
    /// </summary>
    public double? StallRate { get; init; }
}
