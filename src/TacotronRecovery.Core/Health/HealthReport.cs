using TacotronRecovery.Core.Metrics;

namespace TacotronRecovery.Core.Health;

/// <summary>Overall state of a run: the worst severity among its findings.</summary>
public enum HealthStatus
{
    /// <summary>No warning or critical finding.</summary>
    Healthy,
    /// <summary>At least one warning, nothing critical.</summary>
    Warning,
    /// <summary>At least one critical finding: the run needs recovery.</summary>
    Critical,
}

/// <summary>One problem seen in a run's metrics, with its evidence and what to do about it.</summary>
public sealed record HealthFinding
{
    /// <summary>Stable code scripts can match (see <see cref="HealthCodes"/>).</summary>
    public string Code { get; init; } = "";
    /// <summary>Info (does not change the status), Warning or Critical.</summary>
    public EventSeverity Severity { get; init; }
    /// <summary>First step at which it was seen.</summary>
    public int FirstStep { get; init; }
    /// <summary>Last step at which it was seen.</summary>
    public int LastStep { get; init; }
    /// <summary>Steps (or measurements) at which it was seen.</summary>
    public int Count { get; init; }
    /// <summary>Short text with the numbers behind it.</summary>
    public string Evidence { get; init; } = "";
    /// <summary>What an experienced TTS engineer would do about it.</summary>
    public string Recommendation { get; init; } = "";
}

/// <summary>Health of a run over the metrics analysed: status, latest alignment figures, findings.</summary>
public sealed record HealthReport
{
    /// <summary>Run name (from the metrics, when they carry it).</summary>
    public string? Run { get; init; }
    /// <summary>Healthy, Warning or Critical.</summary>
    public HealthStatus Status { get; init; }
    /// <summary>Smallest step analysed (0 when none).</summary>
    public int FirstStep { get; init; }
    /// <summary>Largest step analysed (0 when none).</summary>
    public int LastStep { get; init; }
    /// <summary>Step records analysed.</summary>
    public int StepsAnalyzed { get; init; }
    /// <summary>Alignment records analysed.</summary>
    public int AlignmentsAnalyzed { get; init; }
    /// <summary>Latest Diagonality (0..1), when alignment metrics were given.</summary>
    public double? Diagonality { get; init; }
    /// <summary>Latest balanced gate accuracy (0..1), when alignment metrics were given.</summary>
    public double? GateAccuracy { get; init; }
    /// <summary>Latest Quality (0..100 %), when alignment metrics were given.</summary>
    public double? Quality { get; init; }
    /// <summary>
    /// Which record each of <see cref="Diagonality"/>, <see cref="GateAccuracy"/> and <see cref="Quality"/> comes from
    /// (source and step): the detectors follow training-batch records for attention, so these may mix sources.
    /// </summary>
    public string? FiguresSource { get; init; }
    /// <summary>
    /// Ready to synthesise: the latest validation record (held-out sentences decoded free-running) meets every Done
    /// target (<see cref="Recovery.DoneTargets"/>). Training-batch records never make a run ready.
    /// </summary>
    public bool Ready { get; init; }
    /// <summary>The Done targets the latest validation record misses (empty when <see cref="Ready"/>).</summary>
    public IReadOnlyList<string> Unmet { get; init; } = Array.Empty<string>();
    /// <summary>The latest validation record, the one <see cref="Ready"/> judged (null when none was analysed).</summary>
    public AlignmentMetrics? Validation { get; init; }
    /// <summary>Findings, most severe first.</summary>
    public IReadOnlyList<HealthFinding> Findings { get; init; } = Array.Empty<HealthFinding>();
    /// <summary>
    /// Where the thresholds came from, as Test-LossHealth reports it: "defaults", or the path of the config file
    /// whose health and recovery sections were used (-Config, or the run's own config.yaml). Null when the producer
    /// did not record it.
    /// </summary>
    public string? ThresholdsSource { get; init; }
}

/// <summary>Stable finding codes.</summary>
public static class HealthCodes
{
    /// <summary>A loss component was NaN or infinite.</summary>
    public const string NonFiniteLoss = nameof(NonFiniteLoss);
    /// <summary>The gradient norm was NaN or infinite while the loss was finite.</summary>
    public const string NonFiniteGradient = nameof(NonFiniteGradient);
    /// <summary>The gradient norm jumped far above its rolling median.</summary>
    public const string GradientExplosion = nameof(GradientExplosion);
    /// <summary>The total loss jumped far above its rolling median.</summary>
    public const string LossSpike = nameof(LossSpike);
    /// <summary>The rolling median loss stopped improving.</summary>
    public const string Plateau = nameof(Plateau);
    /// <summary>Attention had formed and fell apart (or is falling).</summary>
    public const string AttentionCollapse = nameof(AttentionCollapse);
    /// <summary>Attention never formed after warm-up.</summary>
    public const string AttentionNotForming = nameof(AttentionNotForming);
    /// <summary>Attention reaches the last token long before the audio ends and stays there.</summary>
    public const string EndOfSentenceStall = nameof(EndOfSentenceStall);
    /// <summary>The gate never fires after gate warm-up.</summary>
    public const string GateNeverFires = nameof(GateNeverFires);
    /// <summary>Free-running synthesis was ended by the stall detector: the gate did not fire at the end of the text.</summary>
    public const string SynthesisStall = nameof(SynthesisStall);
    /// <summary>The effective learning rate is too small for updates to matter.</summary>
    public const string StalledLearner = nameof(StalledLearner);
    /// <summary>Many optimizer steps were skipped within the skip window.</summary>
    public const string FrequentSkips = nameof(FrequentSkips);
}
