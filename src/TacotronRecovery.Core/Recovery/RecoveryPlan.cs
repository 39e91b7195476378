using System.Globalization;

namespace TacotronRecovery.Core.Recovery;

/// <summary>
/// The stages of a recovery (DESIGN.md, "Recovery plan"). Every stage is judged on validation records only: held-out
/// sentences decoded one at a time, free-running (docs/recovery.md).
/// </summary>
public enum RecoveryStageId
{
    /// <summary>Steps 0–500: losses finite, Diagonality &gt; 10 %.</summary>
    Stage1 = 1,
    /// <summary>Steps 500–2000: Diagonality &gt; 30 %, GateAccuracy rising.</summary>
    Stage2 = 2,
    /// <summary>Steps 2000+: Diagonality &gt; 70 %, Quality &gt; 60 %.</summary>
    Stage3 = 3,
    /// <summary>Usable: Diagonality ≥ 70 %, GateAccuracy ≥ 80 %, Quality ≥ 70 %, ≥ 90 % of sentences end within ±10 % of their length, no step-limit hit (<see cref="DoneTargets"/>).</summary>
    Done = 4,
}

/// <summary>
/// Step bounds and targets of the recovery plan. Steps count from the start of the recovery. The defaults are the
/// plan of DESIGN.md; <see cref="Scale"/> shrinks or stretches the step bounds (a demo with a tiny model uses 0.1).
/// </summary>
public sealed record RecoveryPlanBounds
{
    /// <summary>Stage 1 runs from step 0 to this step.</summary>
    public int Stage1EndStep { get; init; } = 500;
    /// <summary>Stage 2 runs from <see cref="Stage1EndStep"/> to this step.</summary>
    public int Stage2EndStep { get; init; } = 2000;
    /// <summary>Stage 3 (open-ended, "2000+") is forecast to be reached, and the run done, by this step.</summary>
    public int Stage3EndStep { get; init; } = 3000;
    /// <summary>Stage 1: Diagonality above this (0..1).</summary>
    public double Stage1Diagonality { get; init; } = 0.10;
    /// <summary>Stage 2: Diagonality above this (0..1).</summary>
    public double Stage2Diagonality { get; init; } = 0.30;
    /// <summary>Stage 3: Diagonality above this (0..1).</summary>
    public double Stage3Diagonality { get; init; } = 0.70;
    /// <summary>Stage 3: Quality above this (0..100).</summary>
    public double Stage3Quality { get; init; } = 60;
    /// <summary>Done: Diagonality at least this (0..1).</summary>
    public double DoneDiagonality { get; init; } = 0.70;
    /// <summary>Done: Quality at least this (0..100).</summary>
    public double DoneQuality { get; init; } = 70;
    /// <summary>Done: GateAccuracy at least this (0..1); also counts as "rising" for stage 2 once reached.</summary>
    public double DoneGateAccuracy { get; init; } = 0.80;
    /// <summary>Done: share of held-out sentences ending within ±10 % of their length, at least this (0..1).</summary>
    public double DoneLengthWithin10 { get; init; } = 0.90;
    /// <summary>Done: held-out sentences hitting the decoder step limit, at most this.</summary>
    public int DoneStepLimitHits { get; init; }

    /// <summary>The same bounds with every step bound multiplied by <paramref name="factor"/> (rounded, at least 1, kept increasing).</summary>
    /// <param name="factor">Positive, finite scale factor.</param>
    public RecoveryPlanBounds Scale(double factor)
    {
        if (!double.IsFinite(factor) || factor <= 0)
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "The steps scale must be a positive finite number.");
        int s1 = Math.Max(1, (int)Math.Round(Stage1EndStep * factor));
        int s2 = Math.Max(s1 + 1, (int)Math.Round(Stage2EndStep * factor));
        int s3 = Math.Max(s2 + 1, (int)Math.Round(Stage3EndStep * factor));
        return this with { Stage1EndStep = s1, Stage2EndStep = s2, Stage3EndStep = s3 };
    }
}

/// <summary>One stage of a <see cref="RecoveryPlan"/> with its target and forecast.</summary>
public sealed record RecoveryStage
{
    /// <summary>Which stage.</summary>
    public RecoveryStageId Stage { get; init; }
    /// <summary>Short name.</summary>
    public string Name { get; init; } = "";
    /// <summary>First step of the stage (absolute).</summary>
    public int FromStep { get; init; }
    /// <summary>Last step of the stage (absolute); null for an open-ended stage.</summary>
    public int? ToStep { get; init; }
    /// <summary>What must hold to reach it, e.g. <c>losses finite, Diagonality &gt; 10 %</c>.</summary>
    public string Target { get; init; } = "";
    /// <summary>Steps from the start of the recovery by which the stage is forecast to be reached.</summary>
    public int ForecastSteps { get; init; }
    /// <summary>Wall time from the start of the recovery by which the stage is forecast to be reached.</summary>
    public TimeSpan ForecastTime { get; init; }
}

/// <summary>
/// What <c>Invoke-EmergencyRecovery</c> announces before it starts: the stages and targets of the recovery, each with
/// a forecast in steps and wall time from the measured step time.
/// </summary>
public sealed record RecoveryPlan
{
    /// <summary>Run name.</summary>
    public string? Run { get; init; }
    /// <summary>Step the recovery starts from (the restored checkpoint's step).</summary>
    public int StartStep { get; init; }
    /// <summary>Measured (or estimated) seconds per training step used for the forecasts.</summary>
    public double SecondsPerStep { get; init; }
    /// <summary>Stage bounds and targets.</summary>
    public RecoveryPlanBounds Bounds { get; init; } = new();
    /// <summary>Stage 1, 2, 3 and Done, in order.</summary>
    public IReadOnlyList<RecoveryStage> Stages { get; init; } = [];
    /// <summary>Steps by which the recovery is forecast to be done.</summary>
    public int ForecastSteps { get; init; }
    /// <summary>Wall time by which the recovery is forecast to be done.</summary>
    public TimeSpan ForecastTime { get; init; }

    /// <summary>The stage record of <paramref name="stage"/>.</summary>
    /// <param name="stage">Which stage.</param>
    public RecoveryStage this[RecoveryStageId stage] => Stages.First(s => s.Stage == stage);

    /// <summary>
    /// Builds the plan of DESIGN.md: stage 1 steps 0–500 (losses finite, Diagonality &gt; 10 %), stage 2 500–2000
    /// (Diagonality &gt; 30 %, GateAccuracy rising), stage 3 2000+ (Diagonality &gt; 70 %, Quality &gt; 60 %), Done
    /// (<see cref="DoneTargets"/>), forecast at each stage's end bound (stage 3 and Done at
    /// <see cref="RecoveryPlanBounds.Stage3EndStep"/>). Every figure is a validation (free-running) one.
    /// </summary>
    /// <param name="secondsPerStep">Measured seconds per step (finite, ≥ 0).</param>
    /// <param name="stepsScale">Multiplies every step bound (a demo with a tiny model uses e.g. 0.1); integers work too.</param>
    /// <param name="bounds">Bounds and targets; default: DESIGN.md's.</param>
    /// <param name="startStep">Step the recovery starts from; stage bounds are offsets from it.</param>
    /// <param name="run">Run name.</param>
    public static RecoveryPlan Create(double secondsPerStep, double stepsScale = 1, RecoveryPlanBounds? bounds = null, int startStep = 0, string? run = null)
    {
        if (!double.IsFinite(secondsPerStep) || secondsPerStep < 0)
            throw new ArgumentOutOfRangeException(nameof(secondsPerStep), secondsPerStep, "Seconds per step must be a finite number ≥ 0.");
        if (startStep < 0) throw new ArgumentOutOfRangeException(nameof(startStep), startStep, "The start step must be ≥ 0.");
        var b = (bounds ?? new RecoveryPlanBounds()).Scale(stepsScale);
        TimeSpan Time(int steps) => TimeSpan.FromSeconds(steps * secondsPerStep);
        RecoveryStage Stage(RecoveryStageId id, string name, int from, int? to, string target, int forecast) => new()
        {
            Stage = id,
            Name = name,
            FromStep = startStep + from,
            ToStep = to is int t ? startStep + t : null,
            Target = target,
            ForecastSteps = forecast,
            ForecastTime = Time(forecast),
        };
        var stages = new[]
        {
            Stage(RecoveryStageId.Stage1, "Numerics", 0, b.Stage1EndStep,
                Inv($"losses finite, Diagonality > {Pct(b.Stage1Diagonality)}"), b.Stage1EndStep),
            Stage(RecoveryStageId.Stage2, "Alignment forming", b.Stage1EndStep, b.Stage2EndStep,
                Inv($"Diagonality > {Pct(b.Stage2Diagonality)}, GateAccuracy rising"), b.Stage2EndStep),
            Stage(RecoveryStageId.Stage3, "Aligned", b.Stage2EndStep, null,
                Inv($"Diagonality > {Pct(b.Stage3Diagonality)}, Quality > {b.Stage3Quality:0.#} %"), b.Stage3EndStep),
            Stage(RecoveryStageId.Done, "Done", b.Stage2EndStep, null,
                Inv($"Diagonality ≥ {Pct(b.DoneDiagonality)}, GateAccuracy ≥ {Pct(b.DoneGateAccuracy)}, Quality ≥ {b.DoneQuality:0.#} %, ≥ {Pct(b.DoneLengthWithin10)} end within ±10 % of length, step-limit hits ≤ {b.DoneStepLimitHits}"), b.Stage3EndStep),
        };
        return new RecoveryPlan
        {
            Run = run,
            StartStep = startStep,
            SecondsPerStep = secondsPerStep,
            Bounds = b,
            Stages = stages,
            ForecastSteps = b.Stage3EndStep,
            ForecastTime = Time(b.Stage3EndStep),
        };
    }

    private static string Pct(double fraction) => (100 * fraction).ToString("0.#", CultureInfo.InvariantCulture) + " %";

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
