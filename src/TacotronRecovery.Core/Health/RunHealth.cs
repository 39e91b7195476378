using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Health;

/// <summary>Health of a run directory: reads its metrics.jsonl and alignment.jsonl and runs <see cref="HealthAnalyzer"/>.</summary>
public static class RunHealth
{
    /// <summary>
    /// Analyses <paramref name="run"/>. With <paramref name="last"/>, only the last N step records and the alignment
    /// records from the first of those steps on. Records a resume superseded are left out (the current timeline,
    /// <see cref="JsonLines.ReadCurrent{T}"/>). Torn or invalid lines are skipped and counted in
    /// <paramref name="skippedLines"/>.
    /// </summary>
    /// <param name="run">The run directory.</param>
    /// <param name="last">Only the last N step records (null: all).</param>
    /// <param name="options">Detector thresholds.</param>
    /// <param name="recovery">Recovery thresholds (skip window, persistent spikes).</param>
    /// <param name="skippedLines">Lines skipped because they were not valid records.</param>
    public static HealthReport Analyze(RunDirectory run, int? last, HealthOptions? options, RecoveryOptions? recovery, out long skippedLines)
    {
        ArgumentNullException.ThrowIfNull(run);
        var analyzer = new HealthAnalyzer(options, recovery, run.Name);
        var stepStats = new JsonLinesStats();
        var alignStats = new JsonLinesStats();
        int? first = null;
        // The current timeline: the records a resume superseded (JsonLines.ReadCurrent) would read as a loss jump back.
        var steps = last is { } n
            ? JsonLines.Current(JsonLines.ReadLast<StepMetrics>(run.MetricsFile, n, stepStats).ToList(), s => s.Step)
            : JsonLines.ReadCurrent<StepMetrics>(run.MetricsFile, stepStats);
        foreach (var s in steps)
        {
            first ??= s.Step;
            analyzer.Add(s);
        }
        var aligns = JsonLines.ReadCurrent<AlignmentMetrics>(run.AlignmentFile, alignStats, last is not null && first is { } f ? f : null);
        foreach (var a in aligns) analyzer.Add(a);
        skippedLines = stepStats.Skipped + alignStats.Skipped;
        return analyzer.GetReport();
    }
}
