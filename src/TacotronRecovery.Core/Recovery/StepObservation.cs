namespace TacotronRecovery.Core.Recovery;

/// <summary>
/// What the trainer saw at one step, after the backward pass and before the optimizer step: the loss components,
/// the global gradient norm (before clipping), and two incidents the trainer detects itself.
/// </summary>
/// <param name="Step">Optimizer step number (skipped steps count).</param>
/// <param name="Mel">Masked MSE of the mel before the postnet.</param>
/// <param name="MelPostnet">Masked MSE of the mel after the postnet.</param>
/// <param name="Gate">Masked BCE of the gate.</param>
/// <param name="GuidedAttention">Guided attention loss (unweighted).</param>
/// <param name="Total">Weighted sum of the components (the loss that was back-propagated).</param>
/// <param name="GradNorm">Global gradient L2 norm before clipping.</param>
/// <param name="WeightsFinite">False when a parameter check found NaN or ±Infinity in the weights.</param>
/// <param name="OutOfMemory">True when the step failed with an out-of-memory error (no step was taken).</param>
/// <param name="GradientOverflow">fp16 mixed precision: the losses are finite but the scaled gradients overflowed; the loss
/// scaler skipped the step and lowered its scale (<see cref="GradNorm"/> is then not finite). Counted as a non-finite step
/// only once it persists (<c>recovery.overflow_persist_steps</c>).</param>
/// <param name="Mmi">The MMI (CTC) loss when MMI was on at this step; null when it was off.</param>
public sealed record StepObservation(
    int Step,
    double Mel,
    double MelPostnet,
    double Gate,
    double GuidedAttention,
    double Total,
    double GradNorm,
    bool WeightsFinite = true,
    bool OutOfMemory = false,
    bool GradientOverflow = false,
    double? Mmi = null)
{
    /// <summary>True when every loss component (MMI included when it was on) and the total are finite (the gradient norm aside).</summary>
    public bool LossesFinite =>
        double.IsFinite(Mel) && double.IsFinite(MelPostnet) && double.IsFinite(Gate) &&
        double.IsFinite(GuidedAttention) && (Mmi is not { } mmi || double.IsFinite(mmi)) && double.IsFinite(Total);

    /// <summary>True when every loss component (MMI included when it was on), the total and the gradient norm are finite.</summary>
    public bool IsFinite => LossesFinite && double.IsFinite(GradNorm);

    /// <summary>The names and values of the non-finite components (empty when <see cref="IsFinite"/>).</summary>
    public IReadOnlyList<string> NonFiniteComponents()
    {
        var list = new List<string>();
        void Check(string name, double value)
        {
            if (!double.IsFinite(value)) list.Add(FormattableString.Invariant($"{name}={value}"));
        }
        Check("mel", Mel);
        Check("mel_postnet", MelPostnet);
        Check("gate", Gate);
        Check("guided_attention", GuidedAttention);
        if (Mmi is { } mmi) Check("mmi", mmi);
        Check("total", Total);
        Check("grad_norm", GradNorm);
        return list;
    }
}
