using TacotronRecovery.Core.Metrics;

namespace TacotronRecovery.Core.Plots;

/// <summary>A span of steps shaded on the metric curves (a recovery stage or a non-normal training mode).</summary>
/// <param name="Label">Shown in the legend, e.g. "SafeMode" or "Stage 2".</param>
/// <param name="FromStep">First step of the span.</param>
/// <param name="ToStep">Last step of the span.</param>
public sealed record StageBand(string Label, int FromStep, int ToStep)
{
    /// <summary>
    /// Contiguous spans in which <see cref="StepMetrics.Mode"/> is not "Normal" (SafeMode, AttentionCritical, ...),
    /// in file order; one band per span, labelled with the mode. A step at or before the one before it (a resume from
    /// an earlier checkpoint) ends the span, so no band reaches back in time.
    /// </summary>
    /// <param name="steps">Step records in file order.</param>
    public static IReadOnlyList<StageBand> FromModes(IEnumerable<StepMetrics> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var bands = new List<StageBand>();
        string? mode = null;
        int from = 0, last = 0;
        foreach (var s in steps)
        {
            string m = string.IsNullOrEmpty(s.Mode) ? "Normal" : s.Mode;
            if (m != mode || (mode is not null && s.Step <= last))
            {
                if (mode is not null && mode != "Normal") bands.Add(new StageBand(mode, from, last));
                mode = m;
                from = s.Step;
            }
            last = s.Step;
        }
        if (mode is not null && mode != "Normal") bands.Add(new StageBand(mode, from, last));
        return bands;
    }
}
