namespace TacotronRecovery.Core.Config;

/// <summary>
/// Guided attention loss (Tachibana et al. 2017): mean over valid cells of A[t,n]·W[t,n] with
/// W = 1 − exp(−(n/N − t/T)² / 2σ²), per utterance lengths N (tokens) and T (decoder steps).
/// </summary>
public sealed record GuidedAttentionOptions
{
    /// <summary>Use the loss. Safe mode and attention critical mode force it on.</summary>
    public bool Enabled { get; init; } = true;
    /// <summary>Base weight of the loss. Critical mode raises it up to <see cref="MaxMultiplier"/> × this.</summary>
    public double Weight { get; init; } = 1.0;
    /// <summary>σ of the diagonal band.</summary>
    public double Sigma { get; init; } = 0.2;
    /// <summary>Multiply the weight by this factor every <see cref="DecayEverySteps"/> steps (1 = no decay).</summary>
    public double DecayRate { get; init; } = 1.0;
    /// <summary>Decay period in steps.</summary>
    public int DecayEverySteps { get; init; } = 1000;
    /// <summary>Lowest weight the decay reaches.</summary>
    public double MinWeight { get; init; } = 0.0;
    /// <summary>Highest multiple of the base weight that attention critical mode may use.</summary>
    public double MaxMultiplier { get; init; } = 50;
}
