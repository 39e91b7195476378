namespace TacotronRecovery.Core.Health;

/// <summary>
/// The Quality score (0..100 %): one weighted mean of terms in 0..1.
/// <code>
/// d = Diagonality                                            weight 0.30
/// g = clamp((GateAccuracy − 0.5) / 0.5, 0, 1)                 weight 0.10   (balanced accuracy 0.5 is chance)
/// s = mean of StopAccuracy and LengthWithin10 (those present) weight 0.25   (free-running validation only)
/// m = Monotonicity                                           weight 0.10
/// e = h / (h + ValidationMelLoss), h = 0.25                   weight 0.10   (0.25 → 0.5, 0.05 → 0.83, 1.5 → 0.14)
/// c = k / (k + MCD-DTW dB), k = <see cref="McdHalf"/>          weight 0.15   (validation only)
/// Quality = 100 · Σ weight·term / Σ weight                   (absent terms leave the sum, weights renormalise)
/// </code>
/// On validation every term is present (weights sum to 1). A model that never stops has s = 0 and, free-running,
/// GateAccuracy 0.5 (g = 0), so it scores at most 1 − 0.25 − 0.10 = 65 %, under the Done target of 70 %.
/// A training-batch (teacher-forced) record has only d, g and m (60 / 20 / 20 % after renormalising): a fast signal,
/// never a verdict.
/// </summary>
public static class QualityScore
{
    /// <summary>Weight of Diagonality.</summary>
    public const double DiagonalityWeight = 0.30;
    /// <summary>Weight of the gate term.</summary>
    public const double GateWeight = 0.10;
    /// <summary>Weight of the stop/length term (StopAccuracy, LengthWithin10).</summary>
    public const double StopWeight = 0.25;
    /// <summary>Weight of Monotonicity.</summary>
    public const double MonotonicityWeight = 0.10;
    /// <summary>Weight of the validation mel term.</summary>
    public const double MelWeight = 0.10;
    /// <summary>Weight of the MCD-DTW term.</summary>
    public const double McdWeight = 0.15;
    /// <summary>Validation mel loss at which the mel term is 0.5.</summary>
    public const double MelLossHalf = 0.25;
    /// <summary>MCD-DTW (dB) at which the MCD term is 0.5 (docs/metrics.md, calibration).</summary>
    public const double McdHalf = 4.0;

    /// <summary>Maps a validation mel loss to 0..1: h / (h + loss), h = <see cref="MelLossHalf"/>; non-finite or negative → 0.</summary>
    /// <param name="validationMelLoss">Teacher-forced validation mel loss (after the postnet).</param>
    public static double MelTerm(double validationMelLoss) =>
        double.IsFinite(validationMelLoss) && validationMelLoss >= 0 ? MelLossHalf / (MelLossHalf + validationMelLoss) : 0;

    /// <summary>Maps MCD-DTW (dB) to 0..1: k / (k + mcd), k = <see cref="McdHalf"/>; non-finite or negative → 0.</summary>
    /// <param name="mcdDtw">MCD-DTW in dB.</param>
    public static double McdTerm(double mcdDtw) =>
        double.IsFinite(mcdDtw) && mcdDtw >= 0 ? McdHalf / (McdHalf + mcdDtw) : 0;

    /// <summary>Maps balanced gate accuracy (0.5 = chance) to 0..1.</summary>
    /// <param name="gateAccuracy">Balanced gate accuracy, 0..1.</param>
    public static double GateTerm(double gateAccuracy) => Clamp01((gateAccuracy - 0.5) / 0.5);

    /// <summary>Quality, 0..100 %, from the metrics at hand. Non-finite inputs count as 0.</summary>
    /// <param name="diagonality">Diagonality, 0..1.</param>
    /// <param name="gateAccuracy">Balanced gate accuracy, 0..1.</param>
    /// <param name="monotonicity">Monotonicity, 0..1.</param>
    /// <param name="stopAccuracy">StopAccuracy (free-running validation), when measured.</param>
    /// <param name="validationMelLoss">Validation mel loss, when measured.</param>
    /// <param name="lengthWithin10">Share of sentences ending within ±10 % of the true length, when measured.</param>
    /// <param name="mcdDtw">MCD-DTW in dB, when measured.</param>
    public static double Compute(double diagonality, double gateAccuracy, double monotonicity, double? stopAccuracy = null,
        double? validationMelLoss = null, double? lengthWithin10 = null, double? mcdDtw = null)
    {
        double sum = DiagonalityWeight * Clamp01(diagonality)
                     + GateWeight * GateTerm(gateAccuracy)
                     + MonotonicityWeight * Clamp01(monotonicity);
        double weights = DiagonalityWeight + GateWeight + MonotonicityWeight;
        if (stopAccuracy is not null || lengthWithin10 is not null)
        {
            double s = stopAccuracy is { } a && lengthWithin10 is { } l ? 0.5 * (Clamp01(a) + Clamp01(l))
                : Clamp01(stopAccuracy ?? lengthWithin10!.Value);
            sum += StopWeight * s;
            weights += StopWeight;
        }
        if (validationMelLoss is { } mel)
        {
            sum += MelWeight * MelTerm(mel);
            weights += MelWeight;
        }
        if (mcdDtw is { } mcd)
        {
            sum += McdWeight * McdTerm(mcd);
            weights += McdWeight;
        }
        return Math.Round(100 * sum / weights, 2);
    }

    private static double Clamp01(double v) => double.IsFinite(v) ? Math.Clamp(v, 0, 1) : 0;
}
