namespace TacotronRecovery.Core.Health;

/// <summary>
/// Alignment metrics of one utterance, on its valid decoder steps and tokens only. See <see cref="AlignmentScorer"/>
/// and docs/metrics.md for the exact definitions.
/// </summary>
public sealed record AlignmentScore
{
    /// <summary>Valid decoder steps scored.</summary>
    public int Steps { get; init; }
    /// <summary>Valid tokens scored.</summary>
    public int Tokens { get; init; }
    /// <summary>Best-monotonic-path band mass, chance-corrected, times token coverage (0..1).</summary>
    public double Diagonality { get; init; }
    /// <summary>Mean over decoder steps of the attention mass within ±<see cref="BandHalfWidth"/> tokens of the best path.</summary>
    public double BandMass { get; init; }
    /// <summary>The band mass uniform attention would get: mean over steps of (clipped band width / tokens).</summary>
    public double ChanceMass { get; init; }
    /// <summary>Share of tokens whose column receives at least the coverage threshold (0.5) of attention in total.</summary>
    public double TokenCoverage { get; init; }
    /// <summary>Half-width w of the band around the path, in tokens: max(1, round(0.05 · tokens)).</summary>
    public int BandHalfWidth { get; init; }
    /// <summary>Mean over decoder steps of the largest attention weight (sharpness, not alignment).</summary>
    public double FocusRate { get; init; }
    /// <summary>Mean over tokens of the largest weight any decoder step gives the token.</summary>
    public double Coverage { get; init; }
    /// <summary>Share of decoder-step transitions whose argmax token does not move backwards.</summary>
    public double Monotonicity { get; init; }
    /// <summary>True when the argmax token reached the last <see cref="BandHalfWidth"/> tokens at some step.</summary>
    public bool ReachedEnd { get; init; }
    /// <summary>Decoder steps at the end of the utterance during which attention stays on the last tokens.</summary>
    public int EndTailSteps { get; init; }
    /// <summary>
    /// True when attention reached the last tokens long before the audio ended and stayed there: the tail
    /// (<see cref="EndTailSteps"/>) is at least max(<see cref="AlignmentScorer.EndStallMinShare"/>, 3·w/tokens) of the steps.
    /// </summary>
    public bool EndStall { get; init; }
}

/// <summary>Alignment metrics averaged over the utterances of a batch (each utterance weighs the same).</summary>
public sealed record AlignmentBatchScore
{
    /// <summary>Utterances scored.</summary>
    public int Utterances { get; init; }
    /// <summary>Mean Diagonality.</summary>
    public double Diagonality { get; init; }
    /// <summary>Mean FocusRate.</summary>
    public double FocusRate { get; init; }
    /// <summary>Mean Coverage.</summary>
    public double Coverage { get; init; }
    /// <summary>Mean Monotonicity.</summary>
    public double Monotonicity { get; init; }
    /// <summary>Share of utterances whose attention reached the last tokens.</summary>
    public double ReachedEndRate { get; init; }
    /// <summary>Share of utterances with an end-of-sentence stall.</summary>
    public double EndStallRate { get; init; }
    /// <summary>The per-utterance scores, in batch order.</summary>
    public IReadOnlyList<AlignmentScore> Items { get; init; } = Array.Empty<AlignmentScore>();
}
