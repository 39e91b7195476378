using System.Globalization;
using TacotronRecovery.Core.Metrics;

namespace TacotronRecovery.Core.Recovery;

/// <summary>
/// "Done means usable": the one place that judges a model ready. The targets are <see cref="RecoveryPlanBounds"/>'
/// Done figures and are judged on a validation record only — held-out sentences decoded one at a time, free-running,
/// the gate deciding the end. Diagonality ≥ 70 %, GateAccuracy ≥ 80 %, Quality ≥ 70 %, ≥ 90 % of sentences end within
/// ±10 % of the recording's length, no sentence hits the decoder step limit. A training-batch (teacher-forced) record
/// never meets them. Used by the recovery's <see cref="StageTracker"/>, the Success alert and Test-LossHealth.
/// </summary>
public static class DoneTargets
{
    /// <summary>The targets in words, e.g. for a plan or a report.</summary>
    /// <param name="bounds">Targets (default: the plan's defaults).</param>
    public static string Describe(RecoveryPlanBounds? bounds = null)
    {
        var b = bounds ?? new RecoveryPlanBounds();
        return Inv($"on validation (free-running): Diagonality ≥ {Pct(b.DoneDiagonality)}, GateAccuracy ≥ {Pct(b.DoneGateAccuracy)}, Quality ≥ {b.DoneQuality:0.#} %, ≥ {Pct(b.DoneLengthWithin10)} of sentences end within ±10 % of their length, step-limit hits ≤ {b.DoneStepLimitHits}");
    }

    /// <summary>
    /// The Done targets <paramref name="record"/> misses, each as "<c>name figure (target)</c>"; empty when it meets them
    /// all. A missing, training-batch or incomplete record misses them (saying why).
    /// </summary>
    /// <param name="record">The latest validation record (null when there is none).</param>
    /// <param name="bounds">Targets (default: the plan's defaults).</param>
    public static IReadOnlyList<string> Unmet(AlignmentMetrics? record, RecoveryPlanBounds? bounds = null)
    {
        var b = bounds ?? new RecoveryPlanBounds();
        if (record is null) return ["no validation (free-running) record yet"];
        if (!record.IsValidation) return [Inv($"step {record.Step} is a {record.Source} record (teacher-forced); only validation (free-running) records decide")];
        var unmet = new List<string>();
        if (!(record.Diagonality >= b.DoneDiagonality)) unmet.Add(Inv($"Diagonality {Pct(record.Diagonality)} (target ≥ {Pct(b.DoneDiagonality)})"));
        if (!(record.GateAccuracy >= b.DoneGateAccuracy)) unmet.Add(Inv($"GateAccuracy {Pct(record.GateAccuracy)} (target ≥ {Pct(b.DoneGateAccuracy)})"));
        if (!(record.Quality >= b.DoneQuality)) unmet.Add(Inv($"Quality {record.Quality:0.#} % (target ≥ {b.DoneQuality:0.#} %)"));
        if (record.LengthWithin10 is not { } within) unmet.Add("LengthWithin10 not measured");
        else if (!(within >= b.DoneLengthWithin10)) unmet.Add(Inv($"LengthWithin10 {Pct(within)} (target ≥ {Pct(b.DoneLengthWithin10)})"));
        if (record.StepLimitHits is not { } hits) unmet.Add("StepLimitHits not measured");
        else if (hits > b.DoneStepLimitHits) unmet.Add(Inv($"StepLimitHits {hits} of {record.Sentences?.ToString(CultureInfo.InvariantCulture) ?? "?"} (target ≤ {b.DoneStepLimitHits})"));
        return unmet;
    }

    /// <summary>True when <paramref name="record"/> is a validation record meeting every Done target.</summary>
    public static bool Met(AlignmentMetrics? record, RecoveryPlanBounds? bounds = null) => Unmet(record, bounds).Count == 0;

    /// <summary>
    /// The figures a verdict was judged on, in one line: source, step, sentences and every Done figure plus
    /// StopAccuracy and MCD-DTW, e.g. <c>validation step 600 (10 sentences, free-running): Diagonality 93 %, …</c>.
    /// </summary>
    public static string Figures(AlignmentMetrics record)
    {
        ArgumentNullException.ThrowIfNull(record);
        string kind = record.IsValidation ? "free-running" : "teacher-forced";
        string sentences = record.Sentences is { } n ? Inv($"{n} sentences, ") : "";
        var parts = new List<string>
        {
            "Diagonality " + Pct(record.Diagonality),
            "GateAccuracy " + Pct(record.GateAccuracy),
            Inv($"Quality {record.Quality:0.#} %"),
        };
        if (record.LengthWithin10 is { } l) parts.Add("LengthWithin10 " + Pct(l));
        if (record.StopAccuracy is { } s) parts.Add("StopAccuracy " + Pct(s));
        if (record.StepLimitHits is { } h) parts.Add(Inv($"StepLimitHits {h}"));
        if (record.McdDtw is { } m) parts.Add(Inv($"MCD-DTW {m:0.00} dB"));
        return Inv($"{record.Source} step {record.Step} ({sentences}{kind}): ") + string.Join(", ", parts);
    }

    private static string Pct(double fraction) =>
        double.IsFinite(fraction) ? (100 * fraction).ToString("0.#", CultureInfo.InvariantCulture) + " %" : "n/a";

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
