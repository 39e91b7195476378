namespace TacotronRecovery.Core.Health;

/// <summary>
/// The Quality score (0..100 %): one weighted mean of terms in 0..1.
/// <code>
/// d = Diagonality                                   weight 0.45
/// g = clamp((GateAccuracy − 0.5) / 0.5, 0, 1)        weight 0.20   (balanced accuracy 0.5 is chance)
///     with StopAccuracy s present: g = (g + s) / 2
/// m = Monotonicity                                  weight 0.15
/// e = h / (h + ValidationMelLoss), h = 0.25          weight 0.20   (0.25 → 0.5, 0.05 → 0.83, 1.5 → 0.14)
/// Quality = 100 · Σ weight·term / Σ weight          (terms that are absent leave the sum, weights renormalise)
/// </code>
/// Monotonicity alone is high for attention that never moves, so it carries a small weight: an untrained model
/// (d ≈ 0, gate at chance, mel loss ≥ 1) scores at most 0.15·1 + 0.20·0.2 ≈ 19 %; an aligned model with a working
/// gate (d 0.82, balanced accuracy 0.9, StopAccuracy 0.8, Monotonicity 0.95, mel loss 0.3) scores 76 %.
/// </summary>
public static class QualityScore
{
    /// <summary>Weight of Diagonality.</summary>
    public const double DiagonalityWeight = 0.45;
    /// <summary>Weight of the gate term.</summary>
    public const double GateWeight = 0.20;
    /// <summary>Weight of Monotonicity.</summary>
    public const double MonotonicityWeight = 0.15;
    /// <summary>Weight of the validation mel term.</summary>
    public const double MelWeight = 0.20;
    /// <summary>Validation mel loss at which the mel term is 0.5.</summary>
    public const double MelLossHalf = 0.25;

    /// <summary>Maps a validation mel loss to 0..1: h / (h + loss), h = <see cref="MelLossHalf"/>; non-finite or negative → 0.</summary>
    /// <param name="validationMelLoss">Teacher-forced validation mel loss (after the postnet).</param>
    public static double MelTerm(double validationMelLoss) =>
        double.IsFinite(validationMelLoss) && validationMelLoss >= 0 ? MelLossHalf / (MelLossHalf + validationMelLoss) : 0;

    /// <summary>Maps balanced gate accuracy (0.5 = chance) and optional StopAccuracy to the 0..1 gate term.</summary>
    /// <param name="gateAccuracy">Balanced gate accuracy, 0..1.</param>
    /// <param name="stopAccuracy">Free-running StopAccuracy, 0..1, when measured.</param>
    public static double GateTerm(double gateAccuracy, double? stopAccuracy)
    {
        double g = Clamp01((gateAccuracy - 0.5) / 0.5);
        return stopAccuracy is { } s ? 0.5 * (g + Clamp01(s)) : g;
    }

    /// <summary>Quality, 0..100 %, from the metrics at hand. Non-finite inputs count as 0.</summary>
    /// <param name="diagonality">Diagonality, 0..1.</param>
    /// <param name="gateAccuracy">Balanced gate accuracy, 0..1.</param>
    /// <param name="monotonicity">Monotonicity, 0..1.</param>
    /// <param name="stopAccuracy">StopAccuracy (free-running validation), when measured.</param>
    /// <param name="validationMelLoss">Validation mel loss, when measured.</param>
    public static double Compute(double diagonality, double gateAccuracy, double monotonicity, double? stopAccuracy = null, double? validationMelLoss = null)
    {
        double sum = DiagonalityWeight * Clamp01(diagonality)
                     + GateWeight * GateTerm(gateAccuracy, stopAccuracy)
                     + MonotonicityWeight * Clamp01(monotonicity);
        double weights = DiagonalityWeight + GateWeight + MonotonicityWeight;
        if (validationMelLoss is { } mel)
        {
            sum += MelWeight * MelTerm(mel);
            weights += MelWeight;
        }
        return Math.Round(100 * sum / weights, 2);
    }

    private static double Clamp01(double v) => double.IsFinite(v) ? Math.Clamp(v, 0, 1) : 0;
}
