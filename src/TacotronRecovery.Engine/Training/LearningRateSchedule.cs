using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Engine.Training;

/// <summary>
/// The scheduled learning rate before recovery adjusts it. <c>constant</c>: the peak rate. <c>warmup_decay</c>:
/// linear warm-up over <c>warmup_steps</c>, then from <c>decay_start_step</c> multiplied by <c>decay_rate</c> every
/// <c>decay_every_steps</c> (continuous), never below <c>min_learning_rate</c> (the floor applies to the decay, not to the warm-up).
/// </summary>
public static class LearningRateSchedule
{
    /// <summary>Rate at <paramref name="step"/> (1-based).</summary>
    public static double At(TrainingOptions o, int step)
    {
        if (o.LrSchedule == "constant") return o.LearningRate;
        if (o.WarmupSteps > 0 && step < o.WarmupSteps) return o.LearningRate * Math.Max(step, 1) / o.WarmupSteps;
        if (step <= o.DecayStartStep || o.DecayEverySteps <= 0) return o.LearningRate;
        double lr = o.LearningRate * Math.Pow(o.DecayRate, (step - o.DecayStartStep) / (double)o.DecayEverySteps);
        return Math.Max(lr, Math.Min(o.MinLearningRate, o.LearningRate));
    }
}
