using System.Globalization;
using TacotronRecovery.Core.Contract;
using TacotronRecovery.Core.Metrics;

namespace TacotronRecovery.Core.Runs;

/// <summary>
/// What a foreground training shows of the engine's records: which records reach the pipeline (StepMetrics every
/// <see cref="MetricsInterval"/> steps and skipped steps, every AlignmentMetrics, events that are not Info plus
/// checkpoints, start and end), which become warnings (Critical events), and the progress line (at most once a
/// second, with an ETA from a smoothed step time).
/// </summary>
/// <param name="metricsInterval">Write a StepMetrics every N steps (0: none).</param>
/// <param name="maxSteps">The step limit, for percent and ETA (0: unknown).</param>
public sealed class TrainingFeed(int metricsInterval, int maxSteps)
{
    private DateTime _lastProgress = DateTime.MinValue;
    private double? _diagonality;
    private double _secondsPerStep = double.NaN;

    /// <summary>Write a StepMetrics every N steps (0: none).</summary>
    public int MetricsInterval { get; } = metricsInterval;

    /// <summary>Takes one record; says what to write, warn and show.</summary>
    /// <param name="record">A StepMetrics, AlignmentMetrics or TrainingEvent.</param>
    /// <param name="now">The wall clock, for the progress rate limit.</param>
    public FeedItem Observe(object record, DateTime now)
    {
        switch (record)
        {
            case StepMetrics m:
                _secondsPerStep = double.IsNaN(_secondsPerStep) ? m.StepSeconds : 0.9 * _secondsPerStep + 0.1 * m.StepSeconds;
                bool write = MetricsInterval > 0 && (m.Step % MetricsInterval == 0 || m.Skipped);
                FeedProgress? progress = null;
                if (now - _lastProgress >= TimeSpan.FromSeconds(1))
                {
                    _lastProgress = now;
                    string status = $"step {m.Step}: loss {m.Loss.ToString("0.###", CultureInfo.CurrentCulture)}, Diagonality {(_diagonality is double d ? d.ToString("P0", CultureInfo.InvariantCulture) : "n/a")}, {m.Mode}";
                    progress = maxSteps > 0
                        ? new FeedProgress(status, Math.Clamp(100 * m.Step / maxSteps, 0, 100), (int)Math.Max(0, (maxSteps - m.Step) * _secondsPerStep))
                        : new FeedProgress(status, null, null);
                }
                return new FeedItem(write, null, progress);
            case AlignmentMetrics a:
                _diagonality = a.Diagonality;
                return new FeedItem(true, null, null);
            case TrainingEvent e:
                bool shown = e.Severity != EventSeverity.Info || e.Kind is EventKinds.Checkpoint or EventKinds.Started or EventKinds.Completed or EventKinds.Stopped;
                return new FeedItem(shown, e.Severity == EventSeverity.Critical ? $"step {e.Step}: {e.Code}: {e.Message}" : null, null);
            default:
                return new FeedItem(false, null, null);
        }
    }
}

/// <summary>What to do with one record of a foreground training.</summary>
/// <param name="Write">Write the record to the pipeline.</param>
/// <param name="Warning">A warning to write, or null.</param>
/// <param name="Progress">A progress update, or null.</param>
public sealed record FeedItem(bool Write, string? Warning, FeedProgress? Progress);

/// <summary>One progress update.</summary>
/// <param name="Status">The status line.</param>
/// <param name="Percent">Percent complete, when the step limit is known.</param>
/// <param name="SecondsRemaining">Estimated seconds left, when the step limit is known.</param>
public sealed record FeedProgress(string Status, int? Percent, int? SecondsRemaining);
