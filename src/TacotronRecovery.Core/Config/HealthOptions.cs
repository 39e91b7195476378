namespace TacotronRecovery.Core.Config;

/// <summary>
/// Thresholds of the health detectors that only report (docs/metrics.md explains each). What the recovery controller
/// also acts on — skips, loss spikes, the attention warm-up and the critical Diagonality — is in
/// <see cref="RecoveryOptions"/> alone, read by both, so Test-LossHealth and the controller judge a run alike.
/// </summary>
public sealed record HealthOptions
{
    /// <summary>Rolling window, in steps, for the medians of the gradient norm (explosions) and the total loss (plateaus).</summary>
    public int RollingWindow { get; init; } = 100;
    /// <summary>A gradient norm above this multiple of its rolling median is an explosion.</summary>
    public double GradExplosionFactor { get; init; } = 10;
    /// <summary>Steps without relative improvement ≥ <see cref="PlateauMinImprovement"/> that make a plateau.</summary>
    public int PlateauSteps { get; init; } = 3000;
    /// <summary>Relative improvement of the rolling median loss that ends a plateau.</summary>
    public double PlateauMinImprovement { get; init; } = 0.01;
    /// <summary>StopAccuracy 0 after this many steps: the gate never fires.</summary>
    public int GateWarmupSteps { get; init; } = 2000;
    /// <summary>An effective learning rate below this is stalled.</summary>
    public double StalledLearningRate { get; init; } = 1e-6;
    /// <summary>Steps of stalled learning rate before it is reported.</summary>
    public int StalledSteps { get; init; } = 1000;
    /// <summary>Check parameters for non-finite values every N steps.</summary>
    public int ParameterCheckEverySteps { get; init; } = 50;
}
