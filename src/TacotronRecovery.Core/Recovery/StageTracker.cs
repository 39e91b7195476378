using System.Globalization;
using TacotronRecovery.Core.Metrics;

namespace TacotronRecovery.Core.Recovery;

/// <summary>
/// Follows a recovery against its <see cref="RecoveryPlan"/>: consumes step and alignment metrics (in step order) and
/// reports each stage when its targets first hold; stages are reached in order, several at once when the metrics allow.
/// Only validation records (held-out sentences decoded free-running) judge a stage, Done or the result; training-batch
/// (teacher-forced) alignment records are kept apart (<see cref="LastTrain"/>) and never decide anything. Pure: time
/// comes from the metrics' timestamps.
/// </summary>
/// <remarks>
/// "Losses finite": none of the last <see cref="LossWindow"/> observed steps had a non-finite loss component or gradient
/// norm or was skipped. "GateAccuracy rising": the least-squares slope over the last five validations is positive, or
/// GateAccuracy already meets the Done target. Done: <see cref="DoneTargets"/> on a validation record, losses finite.
/// The result is Recovered only when the last validation record still meets Done (the engine validates the state it
/// stops in, after the stop requested once Done was reached). "Loss decreasing" (informative, not a target): the mean
/// reconstruction loss (mel + mel_postnet + gate) of the last <see cref="LossWindow"/> finite steps is below the mean
/// of the first <see cref="LossWindow"/> finite steps of the recovery.
/// </remarks>
public sealed class StageTracker
{
    private const int GateHistory = 5;
    private readonly Queue<bool> _finite = new();
    private readonly List<double> _early = [];
    private readonly Queue<double> _recent = new();
    private readonly Queue<double> _gate = new();
    private readonly List<StageReached> _history = [];
    private DateTimeOffset? _start;
    private DateTimeOffset? _lastTime;
    private int _lastStep;
    private double _lastLoss = double.NaN;
    private AlignmentMetrics? _lastValidation;
    private AlignmentMetrics? _lastTrain;
    private AlignmentMetrics? _doneRecord;

    /// <summary>Creates a tracker for <paramref name="plan"/>.</summary>
    /// <param name="plan">The plan to follow.</param>
    /// <param name="startTime">When the recovery started; default: the first observed timestamp.</param>
    /// <param name="lossWindow">Steps in the finite-loss and loss-trend windows (≥ 1).</param>
    public StageTracker(RecoveryPlan plan, DateTimeOffset? startTime = null, int lossWindow = 50)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentOutOfRangeException.ThrowIfLessThan(lossWindow, 1);
        Plan = plan;
        _start = startTime;
        _lastStep = plan.StartStep;
        LossWindow = lossWindow;
    }

    /// <summary>The plan followed.</summary>
    public RecoveryPlan Plan { get; }

    /// <summary>Steps in the finite-loss and loss-trend windows.</summary>
    public int LossWindow { get; }

    /// <summary>The highest stage reached (null before stage 1).</summary>
    public RecoveryStageId? Reached { get; private set; }

    /// <summary>True once the Done targets held on a validation record.</summary>
    public bool IsDone => Reached == RecoveryStageId.Done;

    /// <summary>The latest validation (free-running) record: what every verdict judges.</summary>
    public AlignmentMetrics? LastValidation => _lastValidation;

    /// <summary>The latest training-batch (teacher-forced) record: the controller's fast signal, never a verdict.</summary>
    public AlignmentMetrics? LastTrain => _lastTrain;

    /// <summary>Stages reached so far, in order.</summary>
    public IReadOnlyList<StageReached> History => _history;

    /// <summary>True when steps were observed and none of the last <see cref="LossWindow"/> was non-finite or skipped.</summary>
    public bool LossesFinite => _finite.Count > 0 && _finite.All(f => f);

    /// <summary>True when the recent mean reconstruction loss is below the early one (see remarks).</summary>
    public bool LossDecreasing =>
        _early.Count == LossWindow && _recent.Count == LossWindow && _recent.Average() < _early.Average();

    /// <summary>True when validation GateAccuracy rose over the last validations (see remarks).</summary>
    public bool GateAccuracyRising
    {
        get
        {
            if (_gate.Count == 0) return false;
            if (_gate.Last() >= Plan.Bounds.DoneGateAccuracy) return true;
            if (_gate.Count < 2) return false;
            var y = _gate.ToArray();
            double mx = (y.Length - 1) / 2.0, my = y.Average(), num = 0, den = 0;
            for (int i = 0; i < y.Length; i++) { num += (i - mx) * (y[i] - my); den += (i - mx) * (i - mx); }
            return num / den > 0;
        }
    }

    /// <summary>Wall time since the start of the recovery, from the latest observed timestamp.</summary>
    public TimeSpan Elapsed => _start is { } s && _lastTime is { } t && t > s ? t - s : TimeSpan.Zero;

    /// <summary>Takes one step's metrics (finiteness and loss trend). Stages are judged on alignment metrics, so this returns an empty list.</summary>
    /// <param name="m">One line of metrics.jsonl.</param>
    public IReadOnlyList<StageReached> Observe(StepMetrics m)
    {
        ArgumentNullException.ThrowIfNull(m);
        Touch(m.Time, m.Step);
        if (m.LossScaleOverflow == true) return []; // the fp16 scaler at work: neither healthy nor not (as in the trainer)
        bool finite = !m.Skipped && m.LossesFinite() && double.IsFinite(m.GradNorm);
        _finite.Enqueue(finite);
        while (_finite.Count > LossWindow) _finite.Dequeue();
        if (finite)
        {
            _lastLoss = m.Loss;
            double reconstruction = m.MelLoss + m.MelPostnetLoss + m.GateLoss;
            if (_early.Count < LossWindow) _early.Add(reconstruction);
            _recent.Enqueue(reconstruction);
            while (_recent.Count > LossWindow) _recent.Dequeue();
        }
        return [];
    }

    /// <summary>
    /// Takes one alignment evaluation and returns the stages it shows reached (empty when none). A training-batch
    /// record is kept as <see cref="LastTrain"/> and reaches nothing.
    /// </summary>
    /// <param name="m">One line of alignment.jsonl.</param>
    public IReadOnlyList<StageReached> Observe(AlignmentMetrics m)
    {
        ArgumentNullException.ThrowIfNull(m);
        Touch(m.Time, m.Step);
        if (!m.IsValidation)
        {
            _lastTrain = m;
            return [];
        }
        _lastValidation = m;
        if (double.IsFinite(m.GateAccuracy))
        {
            _gate.Enqueue(m.GateAccuracy);
            while (_gate.Count > GateHistory) _gate.Dequeue();
        }
        var reached = new List<StageReached>();
        while (!IsDone)
        {
            var next = Reached is { } r ? r + 1 : RecoveryStageId.Stage1;
            if (!Holds(next, m)) break;
            var stage = Plan[next];
            int fromStart = Math.Max(0, m.Step - Plan.StartStep);
            var hit = new StageReached
            {
                Run = m.Run ?? Plan.Run,
                Stage = next,
                Name = stage.Name,
                Step = m.Step,
                StepsFromStart = fromStart,
                Elapsed = Elapsed,
                ForecastSteps = stage.ForecastSteps,
                OnSchedule = fromStart <= stage.ForecastSteps,
                Source = m.Source,
                Sentences = m.Sentences,
                Diagonality = m.Diagonality,
                GateAccuracy = m.GateAccuracy,
                Quality = m.Quality,
                LengthWithin10 = m.LengthWithin10,
                StepLimitHits = m.StepLimitHits,
                McdDtw = m.McdDtw,
                Loss = _lastLoss,
            };
            if (next == RecoveryStageId.Done) _doneRecord = m;
            Reached = next;
            _history.Add(hit);
            reached.Add(hit);
        }
        return reached;
    }

    /// <summary>
    /// The result of the recovery so far, judged on validation records only: Recovered when Done was reached and the
    /// last validation record still meets the Done targets, else Failed with the unmet validation targets (after
    /// <paramref name="diagnosis"/>, when given) as the diagnosis. Final figures are the last validation record's, with
    /// its step and source; NaN when there was none.
    /// </summary>
    /// <param name="goodCheckpoint">Path of the newest checkpoint marked Good.</param>
    /// <param name="decisions">Recovery decisions taken.</param>
    /// <param name="diagnosis">The controller's diagnosis when recovery was exhausted, or why the run ended.</param>
    public RecoveryResult Result(string? goodCheckpoint, int decisions, string? diagnosis = null)
    {
        var a = _lastValidation;
        var unmet = DoneTargets.Unmet(a, Plan.Bounds);
        bool recovered = IsDone && unmet.Count == 0;
        string? why = null;
        if (!recovered)
        {
            string reached = Reached?.ToString() ?? "no stage";
            string targets = unmet.Count == 0 ? "" : "; unmet validation targets: " + string.Join("; ", unmet);
            string lost = IsDone && _doneRecord is { } d && a is not null && a.Step != d.Step
                ? Inv($"Done was reached at step {d.Step}, but the final validation at step {a.Step} misses it") : Inv($"Done not reached (reached {reached})");
            why = (diagnosis is null ? "" : diagnosis.TrimEnd('.') + ". ") + lost + targets + ".";
        }
        return new RecoveryResult
        {
            Run = a?.Run ?? Plan.Run,
            Outcome = recovered ? RecoveryOutcome.Recovered : RecoveryOutcome.Failed,
            Steps = Math.Max(0, _lastStep - Plan.StartStep),
            Minutes = Elapsed.TotalMinutes,
            Source = a?.Source ?? AlignmentMetrics.Sources.Validation,
            ValidationStep = a?.Step,
            Sentences = a?.Sentences,
            Diagonality = a?.Diagonality ?? double.NaN,
            GateAccuracy = a?.GateAccuracy ?? double.NaN,
            Quality = a?.Quality ?? double.NaN,
            LengthWithin10 = a?.LengthWithin10,
            StopAccuracy = a?.StopAccuracy,
            StepLimitHits = a?.StepLimitHits,
            McdDtw = a?.McdDtw,
            Loss = _lastLoss,
            GoodCheckpoint = goodCheckpoint,
            Decisions = decisions,
            Unmet = recovered ? [] : unmet,
            Diagnosis = why,
        };
    }

    private bool Holds(RecoveryStageId stage, AlignmentMetrics m)
    {
        var b = Plan.Bounds;
        if (!LossesFinite || !m.IsValidation) return false;
        return stage switch
        {
            RecoveryStageId.Stage1 => m.Diagonality > b.Stage1Diagonality,
            RecoveryStageId.Stage2 => m.Diagonality > b.Stage2Diagonality && GateAccuracyRising,
            RecoveryStageId.Stage3 => m.Diagonality > b.Stage3Diagonality && m.Quality > b.Stage3Quality,
            _ => DoneTargets.Met(m, b),
        };
    }

    private void Touch(DateTimeOffset time, int step)
    {
        if (step > _lastStep) _lastStep = step;
        if (time == default) return;
        _start ??= time;
        if (_lastTime is not { } t || time > t) _lastTime = time;
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
