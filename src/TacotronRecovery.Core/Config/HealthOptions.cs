namespace TacotronRecovery.Core.Config;

/// <summary>Health detector thresholds (docs/metrics.md explains each).</summary>
public sealed record HealthOptions
{
    /// <summary>Rolling window, in steps, for medians of loss and gradient norm.</summary>
    public int RollingWindow { get; init; } = 100;
    /// <summary>A gradient norm above this multiple of its rolling median is an explosion.</summary>
    public double GradExplosionFactor { get; init; } = 10;
    /// <summary>A total loss above this multiple of its rolling median is a spike.</summary>
    public double LossSpikeFactor { get; init; } = 3;
    /// <summary>Steps without relative improvement ≥ <see cref="PlateauMinImprovement"/> that make a plateau.</summary>
    public int PlateauSteps { get; init; } = 3000;
    /// <summary>Relative improvement of the rolling median loss that ends a plateau.</summary>
    public double PlateauMinImprovement { get; init; } = 0.01;
    /// <summary>Steps before attention and gate checks apply.</summary>
    public int AttentionWarmupSteps { get; init; } = 500;
    /// <summary>Diagonality below this after warm-up is attention collapse.</summary>
    public double CollapseDiagonality { get; init; } = 0.2;
    /// <summary>StopAccuracy 0 after this many steps: the gate never fires.</summary>
    public int GateWarmupSteps { get; init; } = 2000;
    /// <summary>An effective learning rate below this is stalled.</summary>
    public double StalledLearningRate { get; init; } = 1e-6;
    /// <summary>Steps of stalled learning rate before it is reported.</summary>
    public int StalledSteps { get; init; } = 1000;
    /// <summary>Check parameters for non-finite values every N steps.</summary>
    public int ParameterCheckEverySteps { get; init; } = 50;
}
