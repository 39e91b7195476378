using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Health;

/// <summary>Health of a run directory: reads its metrics.jsonl and alignment.jsonl and runs <see cref="HealthAnalyzer"/>.</summary>
public static class RunHealth
{
    /// <summary>
    /// Analyses <paramref name="run"/>. With <paramref name="last"/>, only the last N step records and the alignment
    /// records from the first of those steps on. Torn or invalid lines are skipped and counted in
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
        var steps = last is { } n ? JsonLines.ReadLast<StepMetrics>(run.MetricsFile, n, stepStats) : JsonLines.Read<StepMetrics>(run.MetricsFile, stepStats);
        foreach (var s in steps)
        {
            first ??= s.Step;
            analyzer.Add(s);
        }
        var aligns = last is not null && first is { } f
            ? JsonLines.ReadSince<AlignmentMetrics>(run.AlignmentFile, f, alignStats)
            : JsonLines.Read<AlignmentMetrics>(run.AlignmentFile, alignStats);
        foreach (var a in aligns) analyzer.Add(a);
        skippedLines = stepStats.Skipped + alignStats.Skipped;
        return analyzer.GetReport();
    }
}
