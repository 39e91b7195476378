using System.Globalization;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Recovery;

namespace TacotronRecovery.Core.Health;

/// <summary>
/// Streaming health detectors over <see cref="StepMetrics"/> and <see cref="AlignmentMetrics"/> records, fed in step
/// order per kind (step and alignment records may interleave freely: their detectors are independent).
/// <para>
/// Cost: each <see cref="Add(StepMetrics)"/> is O(W) memory moves at worst for the two rolling medians of window
/// W = <see cref="HealthOptions.RollingWindow"/> (binary search plus one block copy, ~100 doubles by default) and O(1)
/// otherwise; the skip window is a queue whose entries are each added and removed once. So the cost per step is
/// constant in the length of the run (O(1) amortised for a fixed window) and memory is O(W + skip window).
/// <see cref="Add(AlignmentMetrics)"/> is O(1). <see cref="GetReport"/> may be called at any time and is O(findings).
/// </para>
/// Detectors and their thresholds are listed in docs/metrics.md.
/// </summary>
public sealed class HealthAnalyzer
{
    /// <summary>Occurrences at which a repeated incident (non-finite values, gradient explosions) becomes Critical.</summary>
    public const int RepeatedCount = 3;

    /// <summary>Diagonality drop below its best (absolute) that counts as attention falling apart.</summary>
    public const double FallingDrop = 0.3;

    /// <summary>Share of utterances with an end-of-sentence stall that raises the finding.</summary>
    public const double EndStallRateThreshold = 0.5;

    /// <summary>Balanced gate accuracy at or below which, with no StopAccuracy measured, the gate counts as never firing.</summary>
    public const double GateChanceAccuracy = 0.55;

    private static readonly string[] LossNames = ["loss", "mel_loss", "mel_postnet_loss", "gate_loss", "guided_attention_loss", "mmi_loss"];

    private readonly HealthOptions _o;
    private readonly RecoveryOptions _r;
    private readonly int _minSamples;
    private readonly RollingMedian _gradMedian, _lossMedian, _spikeMedian;
    private readonly Queue<int> _skips = new();
    private readonly int[] _nonFiniteByComponent = new int[LossNames.Length];

    private readonly Tracker _nonFiniteLoss = new(), _nonFiniteGrad = new(), _explosion = new(), _spike = new(),
        _plateau = new(), _collapse = new(), _notForming = new(), _endStall = new(), _synthesisStall = new(), _gate = new(), _stalled = new(), _skipsTracker = new();

    private int _steps, _alignments, _firstStep = int.MaxValue, _lastStep = int.MinValue;
    private bool _lastLossNonFinite, _lastGradNonFinite;
    private double _maxExplosionRatio, _maxSpikeRatio, _lastGradMedian, _lastLossMedian;
    private int _spikeRun, _maxSpikeRun;
    private int _maxSkipsInWindow;
    private double _bestLossMedian = double.NaN;
    private int _bestLossStep;
    private bool _plateauActive;
    private int? _lowLrSince;
    private bool _lowLrNow;
    private double _lastLowLr;

    private bool _seenTrainAlignment;
    private AlignmentMetrics? _latestTrain, _latestValidation, _latestAttention;
    private double _bestDiagonality = double.NaN;
    private int _bestDiagonalityStep;
    private double _collapseFrom = double.NaN, _collapseLowest = double.NaN; // best before the first collapse hit; lowest hit
    private int _collapseFromStep;
    private bool _lowNow, _fallingNow, _stallNow, _gateNow, _synthesisStallNow;
    private double _lastStallRate, _lastSynthesisStallRate;

    /// <summary>An analyzer with the given thresholds (defaults when null).</summary>
    /// <param name="options">Detector thresholds.</param>
    /// <param name="recovery">The thresholds shared with the recovery controller, with the same meaning: skips (window, count), loss spikes (<see cref="LossSpikeRule"/>), the attention warm-up, the critical Diagonality and the level at which attention counts as formed.</param>
    /// <param name="run">Run name for the report (else taken from the records).</param>
    public HealthAnalyzer(HealthOptions? options = null, RecoveryOptions? recovery = null, string? run = null)
    {
        _o = options ?? new HealthOptions();
        _r = recovery ?? new RecoveryOptions();
        int window = Math.Max(1, _o.RollingWindow);
        _minSamples = Math.Min(20, window);
        _gradMedian = new RollingMedian(window);
        _lossMedian = new RollingMedian(window);
        _spikeMedian = new RollingMedian(LossSpikeRule.Window(_r));
        Run = run;
    }

    /// <summary>Run name reported (set from the first record carrying one when not given).</summary>
    public string? Run { get; private set; }

    /// <summary>Analyses one step record.</summary>
    /// <param name="m">The record.</param>
    public void Add(StepMetrics m)
    {
        ArgumentNullException.ThrowIfNull(m);
        Run ??= m.Run;
        _steps++;
        int step = m.Step;
        _firstStep = Math.Min(_firstStep, step);
        _lastStep = Math.Max(_lastStep, step);

        // Non-finite loss components and gradient norm.
        Span<double> losses = [m.Loss, m.MelLoss, m.MelPostnetLoss, m.GateLoss, m.GuidedAttentionLoss, m.MmiLoss ?? 0]; // no MMI: nothing to flag
        bool lossBad = false;
        for (int c = 0; c < losses.Length; c++)
        {
            if (!double.IsFinite(losses[c])) { _nonFiniteByComponent[c]++; lossBad = true; }
        }
        _lastLossNonFinite = lossBad;
        if (lossBad) _nonFiniteLoss.Hit(step);
        // An fp16 overflow the loss scaler handled is neither a non-finite gradient nor a skip to count (StepMetrics).
        bool scalerSkip = m.LossScaleOverflow == true;
        bool gradBad = !lossBad && !scalerSkip && !double.IsFinite(m.GradNorm);
        _lastGradNonFinite = gradBad;
        if (gradBad) _nonFiniteGrad.Hit(step);

        // Skipped steps within the skip window.
        if (m.Skipped && !scalerSkip)
        {
            _skips.Enqueue(step);
            while (_skips.Count > 0 && _skips.Peek() <= step - _r.SkipWindowSteps) _skips.Dequeue();
            _maxSkipsInWindow = Math.Max(_maxSkipsInWindow, _skips.Count);
            if (_skips.Count >= _r.MaxSkipsInWindow) _skipsTracker.Hit(step);
        }

        // Gradient explosion against the rolling median of earlier finite norms.
        if (double.IsFinite(m.GradNorm) && m.GradNorm >= 0)
        {
            if (_gradMedian.Count >= _minSamples)
            {
                double med = _gradMedian.Median;
                if (med > 0 && m.GradNorm > _o.GradExplosionFactor * med)
                {
                    _explosion.Hit(step);
                    _maxExplosionRatio = Math.Max(_maxExplosionRatio, m.GradNorm / med);
                    _lastGradMedian = med;
                }
            }
            _gradMedian.Add(m.GradNorm);
        }

        // Loss spike: the recovery controller's rule (LossSpikeRule), so both judge a run alike.
        double reconstruction = LossSpikeRule.Value(m.MelLoss, m.MelPostnetLoss, m.GateLoss);
        if (double.IsFinite(reconstruction))
        {
            double med = _spikeMedian.Count >= LossSpikeRule.MinimumSamples(_r) ? _spikeMedian.Median : double.NaN;
            bool spike = LossSpikeRule.IsSpike(reconstruction, med, _r);
            if (spike)
            {
                _spike.Hit(step);
                _maxSpikeRatio = Math.Max(_maxSpikeRatio, reconstruction / med);
                _lastLossMedian = med;
            }
            else _spikeMedian.Add(reconstruction);
            _spikeRun = spike ? _spikeRun + 1 : 0;
            _maxSpikeRun = Math.Max(_maxSpikeRun, _spikeRun);
        }

        // Plateau against the rolling median of earlier finite totals.
        if (double.IsFinite(m.Loss))
        {
            _lossMedian.Add(m.Loss);

            if (_lossMedian.Count >= Math.Max(1, _o.RollingWindow))
            {
                double med = _lossMedian.Median;
                if (double.IsNaN(_bestLossMedian) || med < _bestLossMedian * (1 - _o.PlateauMinImprovement))
                {
                    _bestLossMedian = med;
                    _bestLossStep = step;
                    if (_plateauActive) { _plateau.Reset(); _plateauActive = false; }
                }
                else if (step - _bestLossStep >= _o.PlateauSteps)
                {
                    _plateauActive = true;
                    _plateau.Hit(step);
                }
            }
        }

        // Stalled learner: effective learning rate below the threshold for a long stretch.
        if (double.IsFinite(m.LearningRate) && m.LearningRate < _o.StalledLearningRate)
        {
            _lowLrSince ??= step;
            _lastLowLr = m.LearningRate;
            _lowLrNow = step - _lowLrSince.Value + 1 >= _o.StalledSteps;
            if (_lowLrNow) _stalled.Hit(step);
        }
        else
        {
            _lowLrSince = null;
            _lowLrNow = false;
        }
    }

    /// <summary>Analyses one alignment record.</summary>
    /// <param name="a">The record.</param>
    public void Add(AlignmentMetrics a)
    {
        ArgumentNullException.ThrowIfNull(a);
        Run ??= a.Run;
        _alignments++;
        bool validation = string.Equals(a.Source, "validation", StringComparison.OrdinalIgnoreCase);
        if (validation) _latestValidation = a; else { _latestTrain = a; _seenTrainAlignment = true; }

        // Attention: train (teacher-forced) records, or validation ones when no train record has been seen.
        if (!validation || !_seenTrainAlignment)
        {
            _latestAttention = a;
            double d = a.Diagonality;
            if (double.IsFinite(d))
            {
                if (double.IsNaN(_bestDiagonality) || d > _bestDiagonality) { _bestDiagonality = d; _bestDiagonalityStep = a.Step; }
                if (a.Step >= _r.AttentionWarmupSteps)
                {
                    bool formed = _bestDiagonality >= _r.ExitDiagonality;
                    _lowNow = d < _r.CriticalDiagonality;
                    _fallingNow = !_lowNow && formed && d < _bestDiagonality - FallingDrop;
                    if ((_lowNow && formed) || _fallingNow)
                    {
                        if (_collapse.Count == 0) { _collapseFrom = _bestDiagonality; _collapseFromStep = _bestDiagonalityStep; }
                        _collapseLowest = double.IsNaN(_collapseLowest) ? d : Math.Min(_collapseLowest, d);
                        _collapse.Hit(a.Step);
                    }
                    else if (_lowNow) _notForming.Hit(a.Step);
                }
            }
        }

        if (a.EndStallRate is { } stall && a.Step >= _r.AttentionWarmupSteps)
        {
            _lastStallRate = stall;
            _stallNow = stall >= EndStallRateThreshold;
            if (_stallNow) _endStall.Hit(a.Step);
        }

        if (a.StallRate is { } stalled && a.Step >= _o.GateWarmupSteps)
        {
            _lastSynthesisStallRate = stalled;
            _synthesisStallNow = stalled > 0;
            if (_synthesisStallNow) _synthesisStall.Hit(a.Step);
        }

        if (a.Step >= _o.GateWarmupSteps)
        {
            if (a.StopAccuracy is { } stop)
            {
                _gateNow = stop <= 0;
                if (_gateNow) _gate.Hit(a.Step);
            }
            else if (_latestValidation?.StopAccuracy is null && !validation)
            {
                _gateNow = a.GateAccuracy <= GateChanceAccuracy;
                if (_gateNow) _gate.Hit(a.Step);
            }
        }
    }

    /// <summary>The report over everything added so far.</summary>
    public HealthReport GetReport()
    {
        var findings = new List<HealthFinding>();
        var inv = CultureInfo.InvariantCulture;

        if (_nonFiniteLoss.Count > 0)
        {
            var parts = new List<string>();
            for (int c = 0; c < LossNames.Length; c++)
                if (_nonFiniteByComponent[c] > 0) parts.Add(string.Create(inv, $"{LossNames[c]} ×{_nonFiniteByComponent[c]}"));
            findings.Add(_nonFiniteLoss.ToFinding(HealthCodes.NonFiniteLoss,
                _nonFiniteLoss.Count >= RepeatedCount || _lastLossNonFinite ? EventSeverity.Critical : EventSeverity.Warning,
                string.Create(inv, $"NaN/Inf at {_nonFiniteLoss.Count} step(s) {_nonFiniteLoss.Range}: {string.Join(", ", parts)}{(_lastLossNonFinite ? "; still non-finite at the last step" : "")}."),
                "Lower the learning rate (halve it) and tighten gradient clipping (e.g. 1.0 → 0.5); turn mixed precision off; check the data for empty, silent or corrupt rows (zero-length audio, empty transcripts, NaN in cached mels); resume from the last good checkpoint."));
        }
        if (_nonFiniteGrad.Count > 0)
        {
            findings.Add(_nonFiniteGrad.ToFinding(HealthCodes.NonFiniteGradient,
                _nonFiniteGrad.Count >= RepeatedCount || _lastGradNonFinite ? EventSeverity.Critical : EventSeverity.Warning,
                string.Create(inv, $"Gradient norm NaN/Inf at {_nonFiniteGrad.Count} step(s) {_nonFiniteGrad.Range} with finite losses."),
                "Lower the learning rate and the clip threshold; turn mixed precision off (or raise the loss scale floor); look for a batch with extreme values (very long utterances, clipped audio) at those steps."));
        }
        if (_skipsTracker.Count > 0)
        {
            findings.Add(_skipsTracker.ToFinding(HealthCodes.FrequentSkips, EventSeverity.Critical,
                string.Create(inv, $"Up to {_maxSkipsInWindow} skipped steps within {_r.SkipWindowSteps} steps (limit {_r.MaxSkipsInWindow}), {_skipsTracker.Range}."),
                "Roll back to the last good checkpoint with a lower learning rate and tighter clipping; if skips follow particular batches, find and remove the bad utterances."));
        }
        if (_explosion.Count > 0)
        {
            findings.Add(_explosion.ToFinding(HealthCodes.GradientExplosion,
                _explosion.Count >= RepeatedCount ? EventSeverity.Critical : EventSeverity.Warning,
                string.Create(inv, $"Gradient norm above {_o.GradExplosionFactor:0.##}× its rolling median at {_explosion.Count} step(s) {_explosion.Range}; worst {_maxExplosionRatio:0.#}× (median {_lastGradMedian:0.###})."),
                "Lower the learning rate and clip gradients (threshold about 1.0, lower in safe mode); check that warm-up is long enough; if it follows attention jumps, raise the guided-attention weight."));
        }
        if (_spike.Count > 0)
        {
            bool persistent = LossSpikeRule.IsPersistent(_maxSpikeRun, _r);
            findings.Add(_spike.ToFinding(HealthCodes.LossSpike,
                persistent ? EventSeverity.Critical : EventSeverity.Warning,
                string.Create(inv, $"Reconstruction loss (mel + postnet + gate) above {_r.SpikeFactor:0.##}× its rolling median at {_spike.Count} step(s) {_spike.Range}; worst {_maxSpikeRatio:0.#}× (median {_lastLossMedian:0.####}); longest run {_maxSpikeRun} step(s){(persistent ? $" ≥ {_r.SpikePersistSteps}" : "")}."),
                persistent
                    ? "A persistent spike: roll back to the last good checkpoint and continue with a halved learning rate and tighter clipping."
                    : "Isolated spikes are usually a hard batch; if they repeat, lower the learning rate and check the utterances in those batches (misaligned transcripts, long silences)."));
        }
        if (_plateau.Count > 0)
        {
            findings.Add(_plateau.ToFinding(HealthCodes.Plateau, EventSeverity.Info,
                string.Create(inv, $"Rolling median loss {_bestLossMedian:0.####} has not improved by {_o.PlateauMinImprovement:P0} since step {_bestLossStep} ({_lastStep - _bestLossStep} steps)."),
                "If alignment and quality are good, training has converged: decay the learning rate or stop. Otherwise lower the learning rate (step decay), or check the data and the guided-attention weight."));
        }
        if (_stalled.Count > 0)
        {
            findings.Add(_stalled.ToFinding(HealthCodes.StalledLearner, _lowLrNow ? EventSeverity.Warning : EventSeverity.Info,
                string.Create(inv, $"Learning rate below {_o.StalledLearningRate:0.#e0} for ≥ {_o.StalledSteps} steps (last {_lastLowLr:0.##e0}){(_lowLrNow ? "" : "; it has risen since")}."),
                "Updates are negligible: raise the learning rate (1e-4 to 1e-3 for Adam on Tacotron 2), check the schedule's decay and that safe mode steps back down after a stable stretch."));
        }
        if (_notForming.Count > 0)
        {
            findings.Add(_notForming.ToFinding(HealthCodes.AttentionNotForming, _lowNow && _bestDiagonality < _r.ExitDiagonality ? EventSeverity.Critical : EventSeverity.Info,
                string.Create(inv, $"Diagonality below {_r.CriticalDiagonality:P0} after warm-up ({_r.AttentionWarmupSteps} steps) at {_notForming.Count} measurement(s) {_notForming.Range}; best so far {_bestDiagonality:P0} at step {_bestDiagonalityStep}, latest {LatestDiagonality():P0}."),
                "Raise the guided-attention weight (10× to 50× its base) and keep it on longer; trim leading and trailing silences; check that transcripts match the audio (misaligned or truncated filelists); lower the reduction factor r or the learning rate."));
        }
        if (_collapse.Count > 0)
        {
            var sev = _lowNow ? EventSeverity.Critical : _fallingNow ? EventSeverity.Warning : EventSeverity.Info;
            findings.Add(_collapse.ToFinding(HealthCodes.AttentionCollapse, sev,
                string.Create(inv, $"Diagonality fell from {_collapseFrom:P0} (step {_collapseFromStep}) to {_collapseLowest:P0} at {_collapse.Count} measurement(s) {_collapse.Range}; latest {LatestDiagonality():P0}."),
                "Roll back to the last checkpoint with good alignment; raise the guided-attention weight again and lower the learning rate; look for long or misaligned utterances in recent batches."));
        }
        if (_endStall.Count > 0)
        {
            findings.Add(_endStall.ToFinding(HealthCodes.EndOfSentenceStall, _stallNow ? EventSeverity.Warning : EventSeverity.Info,
                string.Create(inv, $"Attention reached the last tokens long before the audio ended and stayed there in ≥ {EndStallRateThreshold:P0} of utterances at {_endStall.Count} measurement(s) {_endStall.Range} (latest {_lastStallRate:P0})."),
                "Trim trailing silence consistently (sox or a VAD) so audio ends when the text does; make sure every transcript ends with punctuation or an end-of-sequence token; raise the gate pos_weight (5–10) so the decoder learns to stop."));
        }
        if (_synthesisStall.Count > 0)
        {
            findings.Add(_synthesisStall.ToFinding(HealthCodes.SynthesisStall, _synthesisStallNow ? EventSeverity.Warning : EventSeverity.Info,
                string.Create(inv, $"Free-running synthesis of held-out sentences was ended by the stall detector (the attention rested at the last tokens and the gate did not fire) at {_synthesisStall.Count} measurement(s) {_synthesisStall.Range} (latest {_lastSynthesisStallRate:P0} of the sentences)."),
                "The gate has not learnt to stop yet: train on (on the demo it learns once the attention has formed, docs/model.md, Gate); check that the audio is trimmed so that it ends where the text does; a gate_pos_weight of 5 (the demo's) makes the rare stop step count. Until then inference ends such sentences at the estimated end of speech instead of babbling to the step limit."));
        }
        if (_gate.Count > 0)
        {
            var latest = _latestValidation?.StopAccuracy is not null ? $"StopAccuracy {_latestValidation.StopAccuracy:P0}" : $"GateAccuracy {(_latestTrain ?? _latestValidation)?.GateAccuracy:P0}";
            findings.Add(_gate.ToFinding(HealthCodes.GateNeverFires, _gateNow ? EventSeverity.Warning : EventSeverity.Info,
                string.Create(inv, $"The gate does not fire after gate warm-up ({_o.GateWarmupSteps} steps) at {_gate.Count} measurement(s) {_gate.Range}; latest {latest}."),
                "Set the gate loss pos_weight to 5–10 (one positive frame per utterance is too rare to learn otherwise); trim trailing silence consistently so the stop frame is where speech ends; check gate targets are 1 from the last frame on."));
        }

        findings.Sort((a, b) => b.Severity != a.Severity ? b.Severity.CompareTo(a.Severity) : a.FirstStep.CompareTo(b.FirstStep));
        var status = findings.Any(f => f.Severity == EventSeverity.Critical) ? HealthStatus.Critical
            : findings.Any(f => f.Severity == EventSeverity.Warning) ? HealthStatus.Warning : HealthStatus.Healthy;
        var gateSource = _latestTrain ?? _latestValidation;
        var qualitySource = _latestValidation ?? _latestTrain;
        int first = _firstStep == int.MaxValue ? 0 : _firstStep, last = _lastStep == int.MinValue ? 0 : _lastStep;
        if (_steps == 0 && _alignments > 0)
        {
            first = Math.Min(_latestAttention?.Step ?? 0, gateSource?.Step ?? 0);
            last = Math.Max(_latestTrain?.Step ?? 0, _latestValidation?.Step ?? 0);
        }
        return new HealthReport
        {
            Run = Run,
            Status = status,
            FirstStep = first,
            LastStep = last,
            StepsAnalyzed = _steps,
            AlignmentsAnalyzed = _alignments,
            Diagonality = _latestAttention?.Diagonality,
            GateAccuracy = gateSource?.GateAccuracy,
            Quality = qualitySource?.Quality,
            FiguresSource = FiguresSource(_latestAttention, gateSource, qualitySource),
            Findings = findings,
            Validation = _latestValidation,
            Ready = Recovery.DoneTargets.Met(_latestValidation),
            Unmet = Recovery.DoneTargets.Unmet(_latestValidation),
        };
    }

    /// <summary>Analyses whole sequences and returns the report.</summary>
    /// <param name="steps">Step records in step order.</param>
    /// <param name="alignments">Alignment records in step order (may be empty).</param>
    /// <param name="options">Detector thresholds.</param>
    /// <param name="recovery">The thresholds shared with the recovery controller (skips, spikes, attention).</param>
    public static HealthReport Analyze(IEnumerable<StepMetrics> steps, IEnumerable<AlignmentMetrics>? alignments = null,
        HealthOptions? options = null, RecoveryOptions? recovery = null)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var analyzer = new HealthAnalyzer(options, recovery);
        foreach (var s in steps) analyzer.Add(s);
        if (alignments is not null) foreach (var a in alignments) analyzer.Add(a);
        return analyzer.GetReport();
    }

    /// <summary>Which record each figure of the report comes from, e.g. <c>Diagonality, GateAccuracy: train step 600; Quality: validation step 600</c>.</summary>
    private static string? FiguresSource(AlignmentMetrics? diagonality, AlignmentMetrics? gate, AlignmentMetrics? quality)
    {
        var parts = new List<(string Name, AlignmentMetrics Record)>();
        if (diagonality is not null) parts.Add(("Diagonality", diagonality));
        if (gate is not null) parts.Add(("GateAccuracy", gate));
        if (quality is not null) parts.Add(("Quality", quality));
        if (parts.Count == 0) return null;
        return string.Join("; ", parts.GroupBy(p => p.Record).Select(g =>
            string.Join(", ", g.Select(p => p.Name)) + string.Create(CultureInfo.InvariantCulture, $": {g.Key.Source} step {g.Key.Step}")));
    }

    private double LatestDiagonality() => _latestAttention?.Diagonality ?? double.NaN;

    private sealed class Tracker
    {
        public int First { get; private set; }
        public int Last { get; private set; }
        public int Count { get; private set; }

        public string Range => First == Last ? $"at step {First}" : $"in steps {First}–{Last}";

        public void Hit(int step)
        {
            if (Count == 0) First = step;
            Last = step;
            Count++;
        }

        public void Reset() => Count = 0;

        public HealthFinding ToFinding(string code, EventSeverity severity, string evidence, string recommendation) => new()
        {
            Code = code,
            Severity = severity,
            FirstStep = First,
            LastStep = Last,
            Count = Count,
            Evidence = evidence,
            Recommendation = recommendation,
        };
    }
}
