using TacotronRecovery.Core.Checkpoints;
using TacotronRecovery.Core.Contract;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Recovery;

/// <summary>
/// Follows one emergency recovery through the engine's records: the stages reached (<see cref="StageTracker"/>), the
/// recovery decisions, the diagnosis of an exhaustion, the progress line, and when to ask the engine to stop (the
/// Done targets met, unless early stop is off). <see cref="Result"/> composes the <see cref="RecoveryResult"/>.
/// </summary>
public sealed class RecoveryMonitor
{
    private readonly RunDirectory _run;
    private readonly StageTracker _tracker;
    private readonly int _startStep, _maxSteps;
    private readonly bool _earlyStop;
    private int _decisions;
    private string? _diagnosis;
    private DateTime _lastProgress = DateTime.MinValue;

    /// <summary>A monitor for a recovery of <paramref name="run"/> by <paramref name="plan"/>.</summary>
    /// <param name="plan">The plan.</param>
    /// <param name="run">The run.</param>
    /// <param name="startStep">The step training restarts from.</param>
    /// <param name="maxSteps">The step budget, counted from <paramref name="startStep"/>.</param>
    /// <param name="earlyStop">Stop the engine once the Done targets are met.</param>
    /// <param name="start">When the recovery started.</param>
    public RecoveryMonitor(RecoveryPlan plan, RunDirectory run, int startStep, int maxSteps, bool earlyStop, DateTimeOffset start)
    {
        _run = run;
        _tracker = new StageTracker(plan, start);
        _startStep = startStep;
        _maxSteps = maxSteps;
        _earlyStop = earlyStop;
    }

    /// <summary>True once the engine has been asked to stop because the Done targets were met.</summary>
    public bool StopRequested { get; private set; }

    /// <summary>Takes one engine record.</summary>
    /// <param name="record">A StepMetrics, AlignmentMetrics or TrainingEvent.</param>
    /// <param name="now">The wall clock, for the progress rate limit.</param>
    /// <returns>The stages reached by it, whether the event belongs on the pipeline (not Info), and a progress line at most once a second.</returns>
    public MonitorItem Observe(object record, DateTime now)
    {
        IReadOnlyList<StageReached> reached = [];
        bool write = false;
        (string, int)? progress = null;
        switch (record)
        {
            case StepMetrics m:
                reached = _tracker.Observe(m);
                if (now - _lastProgress >= TimeSpan.FromSeconds(1))
                {
                    _lastProgress = now;
                    progress = ($"step {m.Step}: loss {m.Loss:0.###}, {m.Mode}, reached {_tracker.Reached?.ToString() ?? "nothing yet"}",
                        Math.Clamp(100 * (m.Step - _startStep) / _maxSteps, 0, 100));
                }
                break;
            case AlignmentMetrics a:
                reached = _tracker.Observe(a);
                break;
            case TrainingEvent e:
                if (EventKinds.IsDecision(e.Kind)) _decisions++;
                if (EventCodes.IsExhaustion(e.Code)) _diagnosis = e.Message;
                write = e.Severity != EventSeverity.Info;
                break;
        }
        bool requestStop = false;
        if (_tracker.IsDone && !StopRequested && _earlyStop)
        {
            StopRequested = true;
            requestStop = true;
            _run.RequestStop();
        }
        return new MonitorItem(reached, write, progress, requestStop);
    }

    /// <summary>
    /// The result once the engine has ended: Recovered with the Done targets met, else Failed with the diagnosis (the
    /// exhaustion's, the engine's failure, or the step budget spent).
    /// </summary>
    /// <param name="engineFailure">The engine's error message when it failed, else null.</param>
    public RecoveryResult Result(string? engineFailure)
    {
        _diagnosis ??= engineFailure;
        var good = _run.IsExternal ? CheckpointSelector.TryResumeTarget(_run)?.Path : CheckpointSelector.SelectLastGood(CheckpointManifest.Load(_run.ManifestFile))?.Path;
        return _tracker.Result(good, _decisions, _tracker.IsDone ? null : _diagnosis ?? $"Step budget of {_maxSteps} spent");
    }
}

/// <summary>What one engine record meant for a recovery.</summary>
/// <param name="Reached">Stages reached by it.</param>
/// <param name="Write">Write the record (a TrainingEvent that is not Info) to the pipeline.</param>
/// <param name="Progress">A progress update (status, percent), or null.</param>
/// <param name="StopRequested">The engine was asked to stop with this record (the Done targets met).</param>
public sealed record MonitorItem(IReadOnlyList<StageReached> Reached, bool Write, (string Status, int Percent)? Progress, bool StopRequested);
