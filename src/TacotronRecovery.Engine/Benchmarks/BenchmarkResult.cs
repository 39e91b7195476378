namespace TacotronRecovery.Engine.Benchmarks;

/// <summary>One benchmark run: per-step wall times and their summary (seconds), peak memory, health overhead, phases.</summary>
public sealed record BenchmarkResult
{
    /// <summary>Preset name.</summary>
    public required string Preset { get; init; }
    /// <summary>Torch intra-op threads during the run.</summary>
    public required int Threads { get; init; }
    /// <summary>Reduction factor r.</summary>
    public required int FramesPerStep { get; init; }
    /// <summary>Utterances per batch.</summary>
    public required int BatchSize { get; init; }
    /// <summary>Trainable parameter elements.</summary>
    public required long Parameters { get; init; }
    /// <summary>"fast" (teacher-forced fast path) or "plain" (step-by-step decoder).</summary>
    public required string Decoder { get; init; }
    /// <summary>Mixed precision of the products: off, bf16 or fp16.</summary>
    public string MixedPrecision { get; init; } = "off";
    /// <summary>Untimed warm-up steps.</summary>
    public required int Warmup { get; init; }
    /// <summary>Wall seconds of each timed step, in order.</summary>
    public required IReadOnlyList<double> StepSeconds { get; init; }
    /// <summary>Median of <see cref="StepSeconds"/> (mean of the middle two for an even count, as Python's statistics.median).</summary>
    public required double MedianSeconds { get; init; }
    /// <summary>Fastest step.</summary>
    public required double MinSeconds { get; init; }
    /// <summary>Slowest step.</summary>
    public required double MaxSeconds { get; init; }
    /// <summary>Peak resident memory of the process so far, bytes.</summary>
    public required long PeakRssBytes { get; init; }
    /// <summary>Total loss of the last step.</summary>
    public required double FinalLoss { get; init; }
    /// <summary>Health work measurements (null unless the health mode ran).</summary>
    public HealthOverhead? Health { get; init; }
    /// <summary>Median seconds per phase (null unless phases were timed).</summary>
    public PhaseTimes? Phases { get; init; }
}

/// <summary>
/// Cost of the trainer's health work. Per step: reading and checking every loss component, the recovery controller's
/// knobs and OnStep, the health analyzer's Add. On a schedule: the finiteness check of all weights and the alignment
/// measurement (AlignmentScorer, GateMetrics, controller and analyzer); both ran after every timed step, outside its
/// timing, and are amortised over their schedule.
/// </summary>
public sealed record HealthOverhead
{
    /// <summary>Median seconds of the per-step health work (part of each timed step).</summary>
    public required double PerStepSeconds { get; init; }
    /// <summary>Median seconds of one weight finiteness check.</summary>
    public required double ParameterCheckSeconds { get; init; }
    /// <summary>Its schedule (health.parameter_check_every_steps; 0 = never).</summary>
    public required int ParameterCheckEverySteps { get; init; }
    /// <summary>Median seconds of one alignment measurement.</summary>
    public required double AlignmentSeconds { get; init; }
    /// <summary>Its schedule (training.alignment_every_steps; 0 = never).</summary>
    public required int AlignmentEverySteps { get; init; }
    /// <summary>Amortised health seconds per step.</summary>
    public required double AmortizedSeconds { get; init; }
    /// <summary>Amortised health seconds as a percentage of the step without them.</summary>
    public required double OverheadPercent { get; init; }
}

/// <summary>Median seconds of each phase of a step. Backward is split where its gradient reaches the decoder's output and the encoder's output.</summary>
public sealed record PhaseTimes
{
    /// <summary>Embedding and encoder forward.</summary>
    public required double EncoderForward { get; init; }
    /// <summary>Decoder forward (the step loop and its batched parts).</summary>
    public required double DecoderForward { get; init; }
    /// <summary>Postnet forward, masks and gate expansion.</summary>
    public required double PostnetForward { get; init; }
    /// <summary>Masked losses.</summary>
    public required double Loss { get; init; }
    /// <summary>Backward from the loss through the postnet to the decoder's output.</summary>
    public required double PostnetBackward { get; init; }
    /// <summary>Backward through the decoder to the encoder's output.</summary>
    public required double DecoderBackward { get; init; }
    /// <summary>Backward through the encoder and embedding.</summary>
    public required double EncoderBackward { get; init; }
    /// <summary>Gradient clipping (norm over all parameters).</summary>
    public required double Clip { get; init; }
    /// <summary>Adam step and zeroing the gradients.</summary>
    public required double Optimizer { get; init; }
}
