using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Engine.Benchmarks;

/// <summary>What <see cref="TrainingStepBenchmark.Run"/> measures.</summary>
public sealed record BenchmarkOptions
{
    /// <summary>Preset name (<see cref="BenchmarkPreset.Names"/>).</summary>
    public string Preset { get; init; } = "small";
    /// <summary>Timed steps (at least 1; the protocol asks for 5 or more).</summary>
    public int Steps { get; init; } = 5;
    /// <summary>Untimed steps before them (the reference takes 1).</summary>
    public int Warmup { get; init; } = 1;
    /// <summary>Reduction factor override (null: the preset's r = 1).</summary>
    public int? FramesPerStep { get; init; }
    /// <summary>Run every step through the trainer's health work and report its overhead.</summary>
    public bool Health { get; init; }
    /// <summary>Time the phases of each step (encoder, decoder, postnet, loss, backward parts, clip, optimizer).</summary>
    public bool Phases { get; init; }
    /// <summary>Use the plain step-by-step decoder instead of the fast teacher-forced path (before/after figures).</summary>
    public bool PlainDecoder { get; init; }
    /// <summary>
    /// Mixed precision of the step, as <c>training.mixed_precision</c> outside safe mode: Off (the protocol), Bf16 or Fp16
    /// (products in that dtype, <see cref="Model.MixedPrecision"/>; Fp16 also scales the loss, <see cref="Training.GradScaler"/>).
    /// Auto is not accepted here: say which.
    /// </summary>
    public MixedPrecisionMode MixedPrecision { get; init; } = MixedPrecisionMode.Off;
    /// <summary>Seed of the model's initial weights (the PyTorch reference uses 1234); dropout is seeded per step from it.</summary>
    public int Seed { get; init; } = 1234;
    /// <summary>
    /// Source of the health schedule and thresholds (health.parameter_check_every_steps,
    /// training.alignment_every_steps, recovery.*); the defaults are a training's defaults.
    /// </summary>
    public TacotronConfig Config { get; init; } = new();
}
