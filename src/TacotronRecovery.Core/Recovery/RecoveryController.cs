using System.Globalization;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Metrics;

namespace TacotronRecovery.Core.Recovery;

/// <summary>
/// The one place that decides recovery: a pure, deterministic state machine (metrics and incidents in, decisions
/// out; no IO, no clock, no randomness). The trainer reports every step (<see cref="OnStep"/>) before the optimizer
/// step, every alignment measurement (<see cref="OnAlignment"/>), completed rollbacks and engine deaths, applies the
/// returned decisions, and takes its knobs from <see cref="Current"/> and nowhere else. Levels, thresholds,
/// hysteresis and cooldowns are described in docs/recovery.md.
/// </summary>
/// <remarks>
/// Timers that guard against repeated decisions (skip window, rollback and ladder cooldowns) count observed steps
/// (<see cref="RecoveryState.Ticks"/>), not step numbers, because a rollback rewinds the step number.
/// Attention timers count step numbers and are rebased by <see cref="OnRollbackCompleted"/>.
/// </remarks>
public sealed class RecoveryController
{
    /// <summary>Guided-attention multiplier on entering critical mode, and the factor of each further raise.</summary>
    public const double GuidedAttentionRaiseFactor = 5;

    /// <summary>Factor applied to the guided-attention multiplier at each decay in critical mode.</summary>
    public const double GuidedAttentionDecayFactor = 0.5;

    /// <summary>Diagonality must exceed the best value seen in critical mode by more than this to count as progress.</summary>
    public const double DiagonalityProgress = 0.02;

    private readonly RecoveryOptions _r;
    private readonly TrainingOptions _t;
    private readonly GuidedAttentionOptions _ga;
    private readonly RecoveryState _s;
    private readonly MixedPrecisionMode _mixedPrecision;

    /// <summary>Creates a controller, fresh or continuing from a saved <paramref name="state"/>.</summary>
    /// <param name="recovery">Recovery levels and budgets.</param>
    /// <param name="training">Base clip threshold, batch size, mixed-precision mode and MMI flag. The engine passes the
    /// mixed-precision mode it resolved for its device (<c>auto</c> → bf16, fp16 or off), so that knobs and messages name
    /// what really runs.</param>
    /// <param name="guidedAttention">Base guided-attention weight, its schedule and the critical-mode cap.</param>
    /// <param name="state">State saved from an earlier controller (copied; the caller's object is not changed).</param>
    public RecoveryController(RecoveryOptions recovery, TrainingOptions training, GuidedAttentionOptions guidedAttention, RecoveryState? state = null)
    {
        ArgumentNullException.ThrowIfNull(recovery);
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(guidedAttention);
        _r = recovery;
        _t = training;
        _ga = guidedAttention;
        _s = state?.Clone() ?? new RecoveryState { ScheduledLearningRate = training.LearningRate, BatchSize = training.BatchSize };
        if (_s.BatchSize <= 0) _s.BatchSize = training.BatchSize;
        if (!(_s.AttentionMultiplier >= 1)) _s.AttentionMultiplier = 1;
        _s.SafeModeLevel = Math.Clamp(_s.SafeModeLevel, 0, Math.Max(0, recovery.MaxSafeModeLevel));
        // The engine passes the mode it resolved and it is remembered; the supervisor, which has no torch to resolve
        // auto with, takes the engine's from the state it persisted.
        _mixedPrecision = training.MixedPrecision;
        if (_mixedPrecision != MixedPrecisionMode.Auto) _s.MixedPrecision = _mixedPrecision;
        else if (_s.MixedPrecision is MixedPrecisionMode resolved) _mixedPrecision = resolved;
    }

    /// <summary>Knobs for the next step, from the scheduled learning rate last passed to <see cref="OnStep"/>.</summary>
    public Knobs Current => Compute(_s.ScheduledLearningRate);

    /// <summary>A copy of the state, serialisable with System.Text.Json; store it with checkpoints and run state.</summary>
    public RecoveryState State => _s.Clone();

    /// <summary>True once a budget is spent; from then on every call answers <see cref="RecoveryAction.None"/>.</summary>
    public bool IsExhausted => _s.Exhausted;

    /// <summary>True while the reconstruction loss is above the spike threshold (a checkpoint saved now is not Good).</summary>
    public bool LossSpiking => _s.SpikeStreak > 0;

    /// <summary>Why recovery is exhausted (null while it is not).</summary>
    public string? Diagnosis => _s.Diagnosis;

    /// <summary>Current safe-mode level (0 = normal).</summary>
    public int SafeModeLevel => _s.SafeModeLevel;

    /// <summary>True in attention critical mode.</summary>
    public bool AttentionCritical => _s.AttentionCritical;

    /// <summary>The <c>mode</c> of <c>metrics.jsonl</c>: Normal, SafeMode, AttentionCritical or SafeMode+AttentionCritical.</summary>
    public string Mode => (_s.SafeModeLevel > 0, _s.AttentionCritical) switch
    {
        (false, false) => "Normal",
        (true, false) => "SafeMode",
        (false, true) => "AttentionCritical",
        _ => "SafeMode+AttentionCritical",
    };

    /// <summary>Knobs for a given scheduled learning rate under the current levels (changes nothing).</summary>
    /// <param name="scheduledLearningRate">The learning rate of the base schedule at the step.</param>
    public Knobs KnobsFor(double scheduledLearningRate) => Compute(scheduledLearningRate);

    /// <summary>
    /// True when alignment is good enough to mark a checkpoint as a <see cref="RollbackTarget.LastWellAligned"/> target
    /// (Diagonality at or above the critical-mode exit level).
    /// </summary>
    /// <param name="metrics">Alignment metrics measured at the checkpoint's step.</param>
    public bool IsWellAligned(AlignmentMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        return double.IsFinite(metrics.Diagonality) && metrics.Diagonality >= _r.ExitDiagonality;
    }

    /// <summary>
    /// The guided-attention weight of the configured schedule at <paramref name="step"/> (outside critical mode):
    /// max(MinWeight, Weight × DecayRate^⌊step / DecayEverySteps⌋).
    /// </summary>
    /// <param name="step">Training step.</param>
    public double ScheduledGuidedAttentionWeight(int step)
    {
        if (_ga.DecayRate == 1 || _ga.DecayEverySteps <= 0 || step <= 0) return _ga.Weight;
        double w = _ga.Weight * Math.Pow(_ga.DecayRate, step / _ga.DecayEverySteps);
        return Math.Max(_ga.MinWeight, w);
    }

    /// <summary>
    /// Judges one step before the optimizer step. Returns <see cref="RecoveryAction.SkipStep"/> for any non-finite loss
    /// component or gradient norm, non-finite weights, or out-of-memory (the trainer then zeroes the gradients and does
    /// not step); may add <see cref="RecoveryAction.HalveBatch"/>, <see cref="RecoveryAction.Rollback"/> (target
    /// LastGood) followed by <see cref="RecoveryAction.SafeModeEnter"/>, <see cref="RecoveryAction.SafeModeStepDown"/>,
    /// or <see cref="RecoveryAction.Exhausted"/>. An empty list means: step normally with <see cref="Current"/>.
    /// </summary>
    /// <param name="o">The step's losses and gradient norm.</param>
    /// <param name="scheduledLearningRate">Learning rate of the base schedule at this step (non-finite or negative values are ignored).</param>
    public IReadOnlyList<RecoveryDecision> OnStep(StepObservation o, double scheduledLearningRate)
    {
        ArgumentNullException.ThrowIfNull(o);
        if (_s.Exhausted) return [ExhaustedNone(o.Step)];
        _s.Ticks++;
        _s.LastStep = o.Step;
        if (double.IsFinite(scheduledLearningRate) && scheduledLearningRate >= 0) _s.ScheduledLearningRate = scheduledLearningRate;
        _s.SkipTicks.RemoveAll(t => t <= _s.Ticks - Math.Max(1, _r.SkipWindowSteps));

        var list = new List<RecoveryDecision>();
        bool stable = true;
        bool skipped = o.OutOfMemory || !o.IsFinite || !o.WeightsFinite;
        string? trigger = null;
        string triggerEvidence = "";
        // fp16 loss scaling: the scaler skips an overflowing step and lowers its scale itself (a LossScaleOverflow
        // event). Only an overflow that persists is a non-finite step here.
        bool overflow = o.GradientOverflow && o.LossesFinite && o.WeightsFinite && !o.OutOfMemory;
        _s.OverflowStreak = overflow ? _s.OverflowStreak + 1 : 0;
        bool tolerated = overflow && _s.OverflowStreak < _r.OverflowPersistSteps;
        if (tolerated) skipped = false;

        if (o.OutOfMemory)
        {
            stable = false;
            _s.SkipTicks.Add(_s.Ticks);
            Decide(list, o.Step, RecoveryAction.SkipStep, "Out of memory: optimizer step not taken.",
                Inv($"out_of_memory=true batch={_s.BatchSize} skips_in_window={_s.SkipTicks.Count}/{_r.MaxSkipsInWindow}"));
            if (!_r.Enabled)
                ReportDisabled(list, o.Step, "out of memory (would halve the batch)", Inv($"batch={_s.BatchSize}"));
            else if (_s.BatchSize > _r.MinBatchSize)
            {
                int from = _s.BatchSize, to = Math.Max(_r.MinBatchSize, from / 2);
                Decide(list, o.Step, RecoveryAction.HalveBatch, Inv($"Out of memory: batch size {from}→{to}."),
                    Inv($"batch={from}→{to} min_batch={_r.MinBatchSize}"),
                    () => { _s.BatchSize = to; _s.LastLadderTick = _s.Ticks; });
            }
        }
        else if (tolerated)
        {
            stable = false;
        }
        else if (!o.IsFinite || !o.WeightsFinite)
        {
            stable = false;
            _s.SkipTicks.Add(_s.Ticks);
            var bad = o.NonFiniteComponents().ToList();
            if (!o.WeightsFinite) bad.Add("weights=non-finite");
            if (overflow) bad.Add(Inv($"overflow_streak={_s.OverflowStreak}>={_r.OverflowPersistSteps}"));
            Decide(list, o.Step, RecoveryAction.SkipStep,
                o.IsFinite ? "Non-finite weights: optimizer step skipped."
                : overflow ? Inv($"fp16 gradients overflowed {_s.OverflowStreak} steps in a row although the loss scale kept falling: counted as a non-finite gradient.")
                : "Non-finite loss or gradient: optimizer step skipped, gradients zeroed.",
                Inv($"{string.Join(' ', bad)} skips_in_window={_s.SkipTicks.Count}/{_r.MaxSkipsInWindow} window={_r.SkipWindowSteps}"));
        }
        else
        {
            // One rule with the health analyzer (LossSpikeRule): reconstruction loss against its rolling median.
            double reconstruction = LossSpikeRule.Value(o.Mel, o.MelPostnet, o.Gate);
            double median = _s.RecentTotals.Count >= LossSpikeRule.MinimumSamples(_r) ? Median(_s.RecentTotals) : double.NaN;
            if (LossSpikeRule.IsSpike(reconstruction, median, _r))
            {
                stable = false;
                _s.SpikeStreak++;
                if (LossSpikeRule.IsPersistent(_s.SpikeStreak, _r))
                {
                    trigger = Inv($"Loss spike persisted {_s.SpikeStreak} steps");
                    triggerEvidence = Inv($"reconstruction={reconstruction:G4} median={median:G4} factor={reconstruction / median:F2}>{_r.SpikeFactor} spike_steps={_s.SpikeStreak}/{_r.SpikePersistSteps}");
                }
            }
            else
            {
                _s.SpikeStreak = 0;
                _s.RecentTotals.Add(reconstruction);
                int window = LossSpikeRule.Window(_r);
                if (_s.RecentTotals.Count > window) _s.RecentTotals.RemoveRange(0, _s.RecentTotals.Count - window);
            }
        }

        if (!o.WeightsFinite && !o.OutOfMemory)
        {
            trigger = "Non-finite weights";
            triggerEvidence = Inv($"weights=non-finite skips_in_window={_s.SkipTicks.Count}/{_r.MaxSkipsInWindow}");
        }
        else if (skipped && _s.SkipTicks.Count > _r.MaxSkipsInWindow) // judged on a skipped step only: a storm that ended stays ended
        {
            trigger = Inv($"{_s.SkipTicks.Count} skipped steps within {_r.SkipWindowSteps} steps");
            triggerEvidence = Inv($"skips_in_window={_s.SkipTicks.Count}>{_r.MaxSkipsInWindow} window={_r.SkipWindowSteps}");
        }
        if (trigger is not null) TryRollback(list, o.Step, trigger, triggerEvidence);

        if (_s.Exhausted) return list;
        _s.StableSteps = stable ? _s.StableSteps + 1 : 0;
        if (stable && _r.Enabled && _s.SafeModeLevel > 0 && _s.StableSteps >= _r.StableStepsToStepDown && LadderCooledDown())
        {
            int from = _s.SafeModeLevel, stableSteps = _s.StableSteps;
            string restored = from == 1 ? SafeModeRestores() : "";
            Decide(list, o.Step, RecoveryAction.SafeModeStepDown,
                Inv($"{stableSteps} stable steps: safe-mode level {from}→{from - 1}{(restored.Length > 0 ? ": " + restored : "")}."),
                Inv($"stable_steps={stableSteps}/{_r.StableStepsToStepDown} level={from}→{from - 1}"),
                () => { _s.SafeModeLevel = from - 1; _s.StableSteps = 0; _s.LastLadderTick = _s.Ticks; });
        }
        return list;
    }

    /// <summary>
    /// Attention critical mode. After warm-up, Diagonality below the critical level enters it (guided-attention weight
    /// × 5); each evaluation without progress raises the weight × 5 (capped at MaxMultiplier × base, one raise per
    /// cooldown); it holds while Diagonality rises; once Diagonality has stayed at or above the exit level for
    /// AttentionExitSteps it decays × 0.5 per evaluation and exits at the base weight. No progress within
    /// AttentionBudgetSteps: <see cref="RecoveryAction.Rollback"/> (LastWellAligned) then
    /// <see cref="RecoveryAction.ReinitializeAttention"/>; the retry or rollback budget spent: Exhausted.
    /// </summary>
    /// <param name="m">Alignment metrics of one evaluation.</param>
    public IReadOnlyList<RecoveryDecision> OnAlignment(AlignmentMetrics m)
    {
        ArgumentNullException.ThrowIfNull(m);
        if (_s.Exhausted) return [ExhaustedNone(m.Step)];
        var list = new List<RecoveryDecision>();
        double d = m.Diagonality;
        if ((!_s.AttentionCritical && m.Step < _r.AttentionWarmupSteps) || !double.IsFinite(d)) return list;
        _s.LastStep = m.Step;
        double max = Math.Max(1, _ga.MaxMultiplier);

        if (!_s.AttentionCritical)
        {
            if (d >= _r.CriticalDiagonality) return list;
            string evidence = Inv($"diagonality={d:F3}<{_r.CriticalDiagonality} warmup={_r.AttentionWarmupSteps}");
            if (!_r.Enabled)
            {
                ReportDisabled(list, m.Step, "attention collapse (would enter critical mode)", evidence);
                return list;
            }
            double to = Math.Min(GuidedAttentionRaiseFactor, max);
            Decide(list, m.Step, RecoveryAction.AttentionCriticalEnter,
                Inv($"Diagonality {100 * (d):F0} % below {100 * (_r.CriticalDiagonality):F0} % after warm-up: attention critical mode, guided attention ×{to:G3}."),
                Inv($"{evidence} multiplier=1→{to:G3}"),
                () =>
                {
                    _s.AttentionCritical = true;
                    _s.AttentionMultiplier = to;
                    _s.AttentionDecaying = false;
                    _s.BestDiagonality = d;
                    _s.CriticalSinceStep = _s.LastProgressStep = m.Step;
                    _s.LastRaiseStep = m.Step;
                    _s.AboveExitSinceStep = null;
                });
            return list;
        }

        // After a re-initialisation the first evaluation only sets the baseline; it is not progress.
        bool baseline = _s.BestDiagonality < 0;
        bool progress = !baseline && d > _s.BestDiagonality + DiagonalityProgress;
        double bestBefore = Math.Max(0, _s.BestDiagonality);
        if (baseline || progress) _s.BestDiagonality = d;
        if (progress) _s.LastProgressStep = m.Step;

        if (d >= _r.ExitDiagonality)
        {
            _s.AboveExitSinceStep ??= m.Step;
            int held = m.Step - _s.AboveExitSinceStep.Value;
            if (held < _r.AttentionExitSteps) return list;
            double from = _s.AttentionMultiplier, to = from * GuidedAttentionDecayFactor;
            string evidence = Inv($"diagonality={d:F3}>={_r.ExitDiagonality} held_steps={held}/{_r.AttentionExitSteps}");
            if (to <= 1 + 1e-9)
                Decide(list, m.Step, RecoveryAction.AttentionCriticalExit,
                    Inv($"Diagonality {100 * (d):F0} % held above {100 * (_r.ExitDiagonality):F0} % for {held} steps: guided attention back at its base, critical mode left."),
                    Inv($"{evidence} multiplier={from:G3}→1"),
                    () =>
                    {
                        _s.AttentionCritical = false;
                        _s.AttentionMultiplier = 1;
                        _s.AttentionDecaying = false;
                        _s.AboveExitSinceStep = null;
                        _s.LastRaiseStep = null;
                    });
            else
                Decide(list, m.Step, RecoveryAction.GuidedAttentionDecay,
                    Inv($"Diagonality {100 * (d):F0} % held above {100 * (_r.ExitDiagonality):F0} % for {held} steps: guided attention ×{from:G3}→×{to:G3}."),
                    Inv($"{evidence} multiplier={from:G3}→{to:G3}"),
                    () => { _s.AttentionMultiplier = to; _s.AttentionDecaying = true; });
            return list;
        }

        _s.AboveExitSinceStep = null;
        if (progress) return list; // hold while Diagonality rises
        if (_s.AttentionDecaying && d >= _r.CriticalDiagonality) return list; // a dip during the decay holds the weight

        int stalled = m.Step - _s.LastProgressStep;
        if (stalled >= _r.AttentionBudgetSteps)
        {
            if (!RollbackCooledDown()) return list;
            string evidence = Inv($"diagonality={d:F3} best={bestBefore:F3} no_progress_steps={stalled}>={_r.AttentionBudgetSteps} multiplier={_s.AttentionMultiplier:G3} {Budgets()}");
            if (_s.AttentionRetries >= _r.MaxAttentionRetries || _s.Rollbacks >= _r.MaxRollbacks)
            {
                Exhaust(list, m.Step,
                    Inv($"Recovery exhausted: attention did not form after {_s.AttentionRetries} re-initialisation(s) with guided attention up to {max:G3}× its base weight (best Diagonality {100 * (Math.Max(bestBefore, d)):F0} %). Likely causes: transcripts that do not match the audio, long leading or trailing silence, or a text front-end that drops characters; check the data before training again."),
                    evidence);
                return list;
            }
            Decide(list, m.Step, RecoveryAction.Rollback,
                Inv($"No alignment progress for {stalled} steps in critical mode: roll back to the last well-aligned checkpoint."),
                Inv($"{evidence} rollbacks={_s.Rollbacks}→{_s.Rollbacks + 1}"),
                () => { _s.Rollbacks++; _s.LastRollbackTick = _s.LastLadderTick = _s.Ticks; },
                RollbackTarget.LastWellAligned);
            Decide(list, m.Step, RecoveryAction.ReinitializeAttention,
                Inv($"Re-initialise the attention layers (retry {_s.AttentionRetries + 1}/{_r.MaxAttentionRetries}) with guided attention ×{max:G3}."),
                Inv($"attention_retries={_s.AttentionRetries}→{_s.AttentionRetries + 1} multiplier={_s.AttentionMultiplier:G3}→{max:G3}"),
                () =>
                {
                    _s.AttentionRetries++;
                    _s.AttentionMultiplier = max;
                    _s.AttentionDecaying = false;
                    _s.BestDiagonality = -1;
                    _s.LastProgressStep = m.Step;
                    _s.LastRaiseStep = m.Step;
                    _s.AboveExitSinceStep = null;
                    ResetLossBaseline();
                });
            return list;
        }

        if (_s.AttentionMultiplier < max && (_s.LastRaiseStep is not int last || m.Step - last >= _r.CooldownSteps))
        {
            double from = _s.AttentionMultiplier, to = Math.Min(max, from * GuidedAttentionRaiseFactor);
            Decide(list, m.Step, RecoveryAction.GuidedAttentionRaise,
                Inv($"No alignment progress (Diagonality {100 * (d):F0} %, best {100 * (bestBefore):F0} %): guided attention ×{from:G3}→×{to:G3}."),
                Inv($"diagonality={d:F3} best={bestBefore:F3} no_progress_steps={stalled} multiplier={from:G3}→{to:G3} cap={max:G3}"),
                () => { _s.AttentionMultiplier = to; _s.AttentionDecaying = false; _s.LastRaiseStep = m.Step; });
        }
        return list;
    }

    /// <summary>
    /// The trainer restored a checkpoint: clears the skip and spike windows and the stable-step count, rebases the
    /// attention timers to <paramref name="restoredStep"/>; keeps the levels, budgets and cooldowns.
    /// </summary>
    /// <param name="restoredStep">Step of the restored checkpoint.</param>
    public IReadOnlyList<RecoveryDecision> OnRollbackCompleted(int restoredStep)
    {
        if (_s.Exhausted) return [ExhaustedNone(restoredStep)];
        ClearWindows();
        _s.LastStep = restoredStep;
        if (_s.AttentionCritical)
        {
            _s.LastProgressStep = restoredStep;
            _s.CriticalSinceStep = Math.Min(_s.CriticalSinceStep, restoredStep);
            _s.LastRaiseStep = null;
            _s.AboveExitSinceStep = null;
        }
        return [];
    }

    /// <summary>
    /// Supervisor: the engine process died. Within the restart budget answers <see cref="RecoveryAction.Restart"/>
    /// (from the last good checkpoint, one safe-mode level higher, windows cleared); beyond it
    /// <see cref="RecoveryAction.Exhausted"/> with a diagnosis. With recovery disabled: <see cref="RecoveryAction.None"/> (do not restart).
    /// The supervisor persists <see cref="State"/> in the run directory after each call, so that engines that keep dying
    /// before they save a new checkpoint still escalate one level per death and spend the budget.
    /// </summary>
    /// <param name="reason">How it died (exit code, signal, out-of-memory kill), quoted in the decision.</param>
    /// <param name="step">Last step the engine reached (default: the last step the controller saw).</param>
    public IReadOnlyList<RecoveryDecision> OnEngineRestart(string reason, int? step = null)
    {
        reason = string.IsNullOrWhiteSpace(reason) ? "unknown" : reason.Trim();
        if (step is int reached && reached >= 0) _s.LastStep = reached;
        int at = _s.LastStep;
        if (_s.Exhausted) return [ExhaustedNone(at)];
        var list = new List<RecoveryDecision>();
        if (!_r.Enabled)
        {
            Decide(list, at, RecoveryAction.None, Inv($"Recovery disabled: engine process died ({reason}); not restarting."),
                Inv($"restarts={_s.Restarts}/{_r.MaxRestarts}"));
            return list;
        }
        if (_s.Restarts >= _r.MaxRestarts)
        {
            Exhaust(list, at,
                Inv($"Recovery exhausted: the engine process died {_s.Restarts + 1} times (restart budget {_r.MaxRestarts}); last: {reason}. Likely causes: the out-of-memory killer (lower the batch or model size), a native libtorch abort (see the stderr tail in the event and the run's logs/ folder), or an external kill."),
                Inv($"reason=\"{reason}\" {Budgets()}"));
            return list;
        }
        int from = _s.SafeModeLevel, to = Math.Min(from + 1, Math.Max(0, _r.MaxSafeModeLevel));
        Decide(list, at, RecoveryAction.Restart,
            Inv($"Engine process died ({reason}): restart {_s.Restarts + 1} of {_r.MaxRestarts} from the last good checkpoint at safe-mode level {to}."),
            Inv($"reason=\"{reason}\" restarts={_s.Restarts}→{_s.Restarts + 1}/{_r.MaxRestarts} level={from}→{to}"),
            () =>
            {
                _s.Restarts++;
                _s.SafeModeLevel = to;
                ClearWindows();
                _s.LastRollbackTick = _s.LastLadderTick = _s.Ticks;
            },
            RollbackTarget.LastGood);
        return list;
    }

    /// <summary>
    /// An operator started or resumed the run (not a supervisor restart): engine deaths before now no longer count
    /// against <c>recovery.max_restarts</c>. Levels and the other budgets are kept.
    /// </summary>
    public void ResetRestartBudget() => _s.Restarts = 0;

    /// <summary>
    /// An operator asked for emergency recovery (Invoke-EmergencyRecovery): the engine has already restored the last good
    /// checkpoint. Raises the safe-mode level by one and, unless attention is known to be well aligned
    /// (<paramref name="lastDiagonality"/> at or above the exit level), enters attention critical mode at once,
    /// without waiting for the warm-up. Does not count toward the restart or rollback budgets.
    /// </summary>
    /// <param name="step">Step the run resumes from.</param>
    /// <param name="reason">Why (shown in the decision).</param>
    /// <param name="lastDiagonality">Last measured Diagonality, if any.</param>
    public IReadOnlyList<RecoveryDecision> OnEmergency(int step, string reason, double? lastDiagonality)
    {
        if (_s.Exhausted)
        {
            _s.Exhausted = false;
            _s.Diagnosis = null;
        }
        var list = new List<RecoveryDecision>();
        _s.LastStep = step;
        ClearWindows();
        int from = _s.SafeModeLevel, to = Math.Min(from + 1, Math.Max(0, _r.MaxSafeModeLevel));
        Decide(list, step, RecoveryAction.SafeModeEnter,
            Inv($"Emergency recovery ({reason}): safe-mode level {from}→{to}: {SafeModeChanges(from)}."),
            Inv($"level={from}→{to}/{_r.MaxSafeModeLevel} lr_factor={Math.Pow(0.5, to):G4}"),
            () => { _s.SafeModeLevel = to; _s.StableSteps = 0; _s.LastRollbackTick = _s.LastLadderTick = _s.Ticks; });
        double d = lastDiagonality ?? double.NaN;
        if (!_s.AttentionCritical && !(double.IsFinite(d) && d >= _r.ExitDiagonality))
        {
            double to2 = Math.Min(GuidedAttentionRaiseFactor, Math.Max(1, _ga.MaxMultiplier));
            Decide(list, step, RecoveryAction.AttentionCriticalEnter,
                Inv($"Emergency recovery: attention critical mode, guided attention ×{to2:G3} (last Diagonality {(double.IsFinite(d) ? (100 * d).ToString("F0", System.Globalization.CultureInfo.InvariantCulture) + " %" : "unknown")})."),
                Inv($"diagonality={d:F3} exit={_r.ExitDiagonality} multiplier=1→{to2:G3}"),
                () =>
                {
                    _s.AttentionCritical = true;
                    _s.AttentionMultiplier = to2;
                    _s.AttentionDecaying = false;
                    _s.BestDiagonality = double.IsFinite(d) ? d : 0;
                    _s.CriticalSinceStep = _s.LastProgressStep = step;
                    _s.LastRaiseStep = step;
                    _s.AboveExitSinceStep = null;
                });
        }
        return list;
    }

    private void TryRollback(List<RecoveryDecision> list, int step, string trigger, string evidence)
    {
        if (!_r.Enabled)
        {
            ReportDisabled(list, step, trigger.ToLowerInvariant() + " (would roll back)", evidence);
            return;
        }
        if (!RollbackCooledDown()) return;
        if (_s.Rollbacks >= _r.MaxRollbacks)
        {
            var k = Current;
            Exhaust(list, step,
                Inv($"Recovery exhausted: {trigger.ToLowerInvariant()} again after {_s.Rollbacks} rollbacks, at safe-mode level {_s.SafeModeLevel} (learning rate {k.LearningRate:G3}, clip {k.ClipThreshold:G3}). Likely causes: bad utterances (empty, silent, NaN audio), a learning rate or schedule that is too aggressive, or mixed precision; inspect the events before step {step}."),
                Inv($"{evidence} {Budgets()}"));
            return;
        }
        Decide(list, step, RecoveryAction.Rollback,
            Inv($"{trigger}: roll back to the last good checkpoint."),
            Inv($"{evidence} rollbacks={_s.Rollbacks}→{_s.Rollbacks + 1}/{_r.MaxRollbacks}"),
            () => { _s.Rollbacks++; _s.LastRollbackTick = _s.LastLadderTick = _s.Ticks; _s.SpikeStreak = 0; },
            RollbackTarget.LastGood);
        int from = _s.SafeModeLevel;
        if (from < _r.MaxSafeModeLevel)
        {
            Decide(list, step, RecoveryAction.SafeModeEnter,
                Inv($"Safe-mode level {from}→{from + 1}: {SafeModeChanges(from)}."),
                Inv($"level={from}→{from + 1}/{_r.MaxSafeModeLevel} lr_factor={Math.Pow(0.5, from + 1):G4} lr_floor={_r.LearningRateFloor:G3} clip_floor={_r.ClipThresholdFloor:G3}"),
                () => { _s.SafeModeLevel = from + 1; _s.StableSteps = 0; });
        }
    }

    /// <summary>
    /// What entering safe mode changes, naming only what this run has: mixed precision (with its dtype) and MMI are said
    /// to go off only when they were on, guided attention "on" only when it was off.
    /// </summary>
    private string SafeModeChanges(int fromLevel)
    {
        var changes = new List<string> { "learning rate and clip threshold halved" };
        bool wasSafe = fromLevel > 0;
        if (!wasSafe && MixedPrecisionOn) changes.Add($"mixed precision ({MixedPrecisionName}) off");
        if (!wasSafe && _t.Mmi) changes.Add("MMI off");
        if (!wasSafe && !_ga.Enabled && !_s.AttentionCritical) changes.Add("guided attention on");
        return string.Join(", ", changes);
    }

    /// <summary>What leaving safe mode (level 1→0) turns back, naming only what this run has (empty when nothing).</summary>
    private string SafeModeRestores()
    {
        var changes = new List<string>();
        if (MixedPrecisionOn) changes.Add($"mixed precision ({MixedPrecisionName}) back on");
        if (_t.Mmi) changes.Add("MMI back on");
        if (!_ga.Enabled && !_s.AttentionCritical) changes.Add("guided attention off again");
        return string.Join(", ", changes);
    }

    private bool MixedPrecisionOn => _mixedPrecision != MixedPrecisionMode.Off;

    private string MixedPrecisionName => _mixedPrecision.ToString().ToLowerInvariant();

    private void Exhaust(List<RecoveryDecision> list, int step, string diagnosis, string evidence) =>
        Decide(list, step, RecoveryAction.Exhausted, diagnosis, evidence, () => { _s.Exhausted = true; _s.Diagnosis = diagnosis; });

    private void ReportDisabled(List<RecoveryDecision> list, int step, string what, string evidence)
    {
        if (_s.LastDisabledReportTick is long t && _s.Ticks - t < _r.CooldownSteps) return;
        Decide(list, step, RecoveryAction.None, $"Recovery disabled: {what}.", evidence, () => _s.LastDisabledReportTick = _s.Ticks);
    }

    private RecoveryDecision ExhaustedNone(int step)
    {
        var k = Current;
        return new RecoveryDecision(step, RecoveryAction.None, _s.Diagnosis ?? "Recovery exhausted.",
            Inv($"exhausted=true {Budgets()}"), k, k, _s.SafeModeLevel);
    }

    private void Decide(List<RecoveryDecision> list, int step, RecoveryAction action, string reason, string evidence,
        Action? apply = null, RollbackTarget? target = null)
    {
        var before = Current;
        apply?.Invoke();
        list.Add(new RecoveryDecision(step, action, reason, evidence, before, Current, _s.SafeModeLevel, target));
    }

    private bool RollbackCooledDown() => _s.LastRollbackTick is not long t || _s.Ticks - t >= _r.CooldownSteps;

    private bool LadderCooledDown() => _s.LastLadderTick is not long t || _s.Ticks - t >= _r.CooldownSteps;

    private void ClearWindows()
    {
        _s.SkipTicks.Clear();
        _s.OverflowStreak = 0;
        ResetLossBaseline();
        _s.StableSteps = 0;
    }

    // The controller changed the loss itself (guided-attention weight) or the weights were restored: relearn the baseline.
    private void ResetLossBaseline()
    {
        _s.RecentTotals.Clear();
        _s.SpikeStreak = 0;
    }

    private string Budgets() => Inv(
        $"rollbacks={_s.Rollbacks}/{_r.MaxRollbacks} restarts={_s.Restarts}/{_r.MaxRestarts} attention_retries={_s.AttentionRetries}/{_r.MaxAttentionRetries} level={_s.SafeModeLevel}/{_r.MaxSafeModeLevel}");

    private Knobs Compute(double scheduled)
    {
        int level = _s.SafeModeLevel;
        bool safe = level > 0;
        double factor = Math.Pow(0.5, level);
        double lr = safe ? Math.Min(scheduled, Math.Max(_r.LearningRateFloor, scheduled * factor)) : scheduled;
        double baseClip = _t.GradClipThreshold;
        double clip = safe ? Math.Min(baseClip, Math.Max(_r.ClipThresholdFloor, baseClip * factor)) : baseClip;
        double gaWeight = _s.AttentionCritical ? _ga.Weight * _s.AttentionMultiplier : ScheduledGuidedAttentionWeight(_s.LastStep);
        return new Knobs(lr, clip, !safe && MixedPrecisionOn, !safe && _t.Mmi,
            _ga.Enabled || safe || _s.AttentionCritical, gaWeight, _s.BatchSize);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted);
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
