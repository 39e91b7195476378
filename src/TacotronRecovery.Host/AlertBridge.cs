using TacotronRecovery.Core;
using TacotronRecovery.Core.Alerts;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Health;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Plots;
using TacotronRecovery.Core.Recovery;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Core.Contract;

namespace TacotronRecovery.Host;

/// <summary>
/// Turns what the trainer reports into operator alerts (Telegram, or the run's outbox when Telegram is off):
/// Critical (non-finite losses, rollbacks, restarts, critical attention mode, exhaustion), RecoveryStarted
/// (parameters before → after), Progress every <c>telegram.progress_every_steps</c> (metrics, attention and metric
/// PNGs, the health analyzer's recommendations), Success (<see cref="DoneTargets"/> first met on a validation record,
/// held-out sentences decoded free-running; training-batch records never send it), start and
/// completion. Enqueueing never blocks a training step; the notifier sends from its own queue.
/// </summary>
public sealed class AlertBridge : IAsyncDisposable
{
    /// <summary>Lines of a dead engine's stderr quoted in a Restart or Exhausted alert (the event keeps more).</summary>
    public const int StderrLinesInAlert = 10;

    private readonly TacotronConfig _config;
    private readonly RunDirectory _run;
    private readonly INotifier _notifier;
    private readonly HealthAnalyzer _health;
    private readonly Queue<StepMetrics> _recentSteps = new();
    private readonly List<AlignmentMetrics> _alignments = new();
    private readonly List<TrainingEvent> _rollbacks = new();
    private bool _successSent;

    /// <summary>Creates the notifier of a run.</summary>
    public AlertBridge(TacotronConfig config, RunDirectory run, Action<string> warn)
    {
        _config = config;
        _run = run;
        _notifier = NotifierFactory.Create(config.Telegram, run.OutboxDir, warn);
        _health = new HealthAnalyzer(config.Health, config.Recovery, run.Name);
    }

    /// <summary>Feeds one step; sends a progress report every N steps.</summary>
    public void OnStep(StepMetrics m)
    {
        _health.Add(m);
        _recentSteps.Enqueue(m);
        if (_recentSteps.Count > 2000) _recentSteps.Dequeue();
        int every = _config.Telegram.ProgressEverySteps;
        if (every > 0 && m.Step % every == 0) Progress(m);
    }

    /// <summary>Feeds alignment metrics; the first validation record meeting <see cref="DoneTargets"/> sends Success.</summary>
    public void OnAlignment(AlignmentMetrics a)
    {
        _health.Add(a);
        _alignments.Add(a);
        if (_alignments.Count > 500) _alignments.RemoveAt(0);
        if (!_successSent && DoneTargets.Met(a))
        {
            _successSent = true;
            Send(AlertKind.Success, a.Step, $"{_run.Name}: Done targets reached at step {a.Step} (validation, free-running)",
                new[] { DoneTargets.Figures(a) });
        }
    }

    /// <summary>Maps an event to an alert, when it deserves one.</summary>
    public void OnEvent(TrainingEvent e)
    {
        if (StepTimeline.IsRollback(e))
        {
            _rollbacks.Add(e);   // marked on the metrics plot
            if (_rollbacks.Count > 100) _rollbacks.RemoveAt(0);
        }
        var evidence = e.Data?["evidence"]?.GetValue<string>();
        var lines = evidence is null ? Array.Empty<string>() : new[] { evidence };
        switch (e.Code)
        {
            case EventCodes.TrainingStarted:
                Send(AlertKind.TrainingStart, e.Step, $"{_run.Name}: {e.Message}", Array.Empty<string>());
                return;
            case EventCodes.TrainingCompleted:
                Send(AlertKind.TrainingComplete, e.Step, $"{_run.Name}: {e.Message}", Array.Empty<string>(), LatestPlots());
                return;
            case EventCodes.TrainingStopped:
                Send(AlertKind.EarlyStop, e.Step, $"{_run.Name}: {e.Message}", Array.Empty<string>());
                return;
            case EventCodes.SkipStep:
                Send(AlertKind.Critical, e.Step, $"{_run.Name}: {e.Message}", lines, dedup: EventCodes.SkipStep);
                return;
            case EventCodes.Rollback or EventCodes.SafeModeEnter or EventCodes.ReinitializeAttention or EventCodes.HalveBatch:
                var before = e.Data?["before"]?.ToJsonString();
                var after = e.Data?["after"]?.ToJsonString();
                Send(AlertKind.RecoveryStarted, e.Step, $"{_run.Name}: {e.Code} at step {e.Step}",
                    lines.Concat(new[] { e.Message, before is null ? "" : $"before: {before}", after is null ? "" : $"after: {after}" }).Where(l => l.Length > 0).ToArray());
                return;
            // One alert per decision: an exhaustion is the controller's Exhausted decision (the engine's closing
            // RecoveryExhausted event repeats it and sends nothing). A dead engine's stderr tail rides along.
            case EventCodes.AttentionCriticalEnter or EventCodes.Exhausted or EventCodes.Restart or EventCodes.RollbackImpossible:
                var tail = e.Data?["stderr_tail"] is System.Text.Json.Nodes.JsonArray t
                    ? t.Select(n => n?.GetValue<string>() ?? "").TakeLast(StderrLinesInAlert).Select(l => "stderr: " + l)
                    : Enumerable.Empty<string>();
                Send(e.Code is EventCodes.Restart ? AlertKind.Restart : AlertKind.Critical, e.Step, $"{_run.Name}: {e.Message}", lines.Concat(tail).ToArray(), LatestPlots());
                return;
        }
    }

    private void Progress(StepMetrics m)
    {
        var report = _health.GetReport();
        var last = _alignments.LastOrDefault(a => a.Source == "validation") ?? _alignments.LastOrDefault();
        var lines = new List<string>
        {
            $"loss {m.Loss:0.####} (mel {m.MelLoss:0.####}, postnet {m.MelPostnetLoss:0.####}, gate {m.GateLoss:0.####}), grad norm {m.GradNorm:0.##}",
            $"lr {m.LearningRate:G3}, mode {m.Mode}, {m.StepSeconds:0.00} s/step",
        };
        if (last is not null)
            lines.Add($"Diagonality {Figures.Share(last.Diagonality)}, GateAccuracy {Figures.Share(last.GateAccuracy)}, Quality {Figures.Percent(last.Quality)} ({last.Source}, step {last.Step})");
        lines.Add($"health: {report.Status}" + (report.Findings.Count > 0 ? " — " + string.Join(", ", report.Findings.Select(f => f.Code)) : ""));
        var photos = new List<string>();
        try
        {
            var metricsPng = Path.Combine(_run.PlotsDir, "metrics.png");
            PlotRenderer.MetricCurves(_recentSteps.ToArray(), _alignments.ToArray(), metricsPng, _rollbacks.ToArray(), title: $"{_run.Name} at step {m.Step}");
            photos.Add(metricsPng);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ArgumentException)
        {
            lines.Add($"(metrics plot failed: {ex.Message})");
        }
        photos.AddRange(LatestPlots());
        Send(AlertKind.Progress, m.Step, $"{_run.Name}: step {m.Step}", lines, photos, report.Findings.Select(f => f.Recommendation).Distinct().ToArray());
    }

    private IReadOnlyList<string> LatestPlots()
    {
        if (!Directory.Exists(_run.PlotsDir)) return Array.Empty<string>();
        var latest = Directory.GetFiles(_run.PlotsDir, "alignment-step-*.png").OrderBy(f => f, StringComparer.Ordinal).LastOrDefault();
        return latest is null ? Array.Empty<string>() : new[] { latest };
    }

    private void Send(AlertKind kind, int step, string title, IReadOnlyList<string> lines, IReadOnlyList<string>? photos = null,
        IReadOnlyList<string>? recommendations = null, string? dedup = null)
    {
        _notifier.TryEnqueue(new Alert
        {
            Kind = kind, Run = _run.Name, Step = step, Time = DateTimeOffset.UtcNow, Title = title, Lines = lines,
            Photos = photos ?? Array.Empty<string>(), Recommendations = recommendations ?? Array.Empty<string>(), DedupKey = dedup,
        });
    }

    /// <summary>Flushes what can be sent within 20 s; the rest stays in the outbox.</summary>
    public async ValueTask DisposeAsync()
    {
        await _notifier.FlushAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false);
        await _notifier.DisposeAsync().ConfigureAwait(false);
    }
}
