using System.Text.Json.Nodes;
using TacotronRecovery.Core.Checkpoints;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Contract;
using TacotronRecovery.Core.Metrics;

namespace TacotronRecovery.Core.Recovery;

/// <summary>
/// The recovery of an external command (a PyTorch script with the tacotron_recovery adapter), as our engine's trainer
/// does it, minus the tensors: every step the adapter reports goes to the one <see cref="RecoveryController"/>, every
/// attention measurement too, and every checkpoint the script saves is judged at save with
/// <see cref="GoodCheckpointRule"/> and confirmed (or voided) over the next steps in the ledger. Pure: the supervisor
/// reads the run's files, feeds the records in step order, writes the events and knobs it is given and acts on
/// Rollback and Exhausted (stop the process group, restart from <see cref="ExternalCheckpointLedger.SelectLastGood"/>).
/// </summary>
/// <remarks>
/// Skips happen in the adapter (it writes the SkipStep events), so the controller's SkipStep decisions are not
/// reported again. A step the adapter skipped counts as non-finite even when rank 0's own values were finite (another
/// rank's were not). The learning rate the script schedules is taken from the steps it runs with its own rate (knobs.json
/// leaves it to the script at safe-mode level 0); safe mode scales the last one seen.
/// </remarks>
public sealed class ExternalSupervision
{
    private readonly TacotronConfig _config;
    private readonly string _run;
    private readonly TimeProvider _time;
    private int _consecutiveFinite;
    private double _lastLoss = double.NaN;
    private AlignmentMetrics? _lastAlignment;

    /// <summary>Supervision of run <paramref name="run"/>, continuing <paramref name="state"/> (recovery-state.json) and <paramref name="ledger"/>.</summary>
    public ExternalSupervision(TacotronConfig config, string run, RecoveryState? state, ExternalCheckpointLedger ledger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        _config = config;
        _run = run;
        _time = time ?? TimeProvider.System;
        Ledger = ledger ?? throw new ArgumentNullException(nameof(ledger));
        Controller = new RecoveryController(config.Recovery, config.Training, config.GuidedAttention, state);
    }

    /// <summary>The run's recovery controller.</summary>
    public RecoveryController Controller { get; private set; }

    /// <summary>The checkpoint ledger (checkpoints/external.json); save it when <see cref="LedgerChanged"/>.</summary>
    public ExternalCheckpointLedger Ledger { get; }

    /// <summary>True when the ledger changed since the last <see cref="TakeLedgerChange"/>.</summary>
    public bool LedgerChanged { get; private set; }

    /// <summary>Returns <see cref="LedgerChanged"/> and clears it.</summary>
    public bool TakeLedgerChange()
    {
        bool changed = LedgerChanged;
        LedgerChanged = false;
        return changed;
    }

    /// <summary>The knobs the ranks should run with now.</summary>
    public KnobsFile Knobs => KnobsFile.From(Controller);

    /// <summary>The last step observed.</summary>
    public int LastStep { get; private set; }

    /// <summary>Last Diagonality measured, if any.</summary>
    public double? LastDiagonality => _lastAlignment?.Diagonality;

    /// <summary>Takes one step of metrics.jsonl.</summary>
    /// <param name="m">The step.</param>
    /// <param name="scriptLearningRate">True when the step ran with the script's own learning rate (knobs.json left it null).</param>
    public SupervisionUpdate OnStep(StepMetrics m, bool scriptLearningRate)
    {
        ArgumentNullException.ThrowIfNull(m);
        var o = new StepObservation(m.Step, m.MelLoss, m.MelPostnetLoss, m.GateLoss, m.GuidedAttentionLoss, m.Loss,
            m.Skipped ? double.NaN : m.GradNorm);
        var decisions = Controller.OnStep(o, scriptLearningRate ? m.LearningRate : double.NaN);
        LastStep = m.Step;
        bool skipped = m.Skipped || !o.IsFinite || decisions.Any(d => d.Action == RecoveryAction.SkipStep);
        _consecutiveFinite = skipped ? 0 : _consecutiveFinite + 1;
        if (!skipped && double.IsFinite(m.Loss)) _lastLoss = m.Loss;
        var events = Report(decisions).ToList();
        ConfirmPending(decisions, m.Step, events);
        return new SupervisionUpdate(decisions, events);
    }

    /// <summary>Takes one alignment measurement (scored from the adapter's attention matrices).</summary>
    public SupervisionUpdate OnAlignment(AlignmentMetrics a)
    {
        ArgumentNullException.ThrowIfNull(a);
        _lastAlignment = a;
        var decisions = Controller.OnAlignment(a);
        return new SupervisionUpdate(decisions, Report(decisions));
    }

    /// <summary>
    /// Takes one CheckpointSaved of the adapter and records it in the ledger, judged now: pending (Good once
    /// confirmed) when the run is healthy at save, else not Good.
    /// </summary>
    /// <param name="path">Full path of the file.</param>
    /// <param name="step">Iteration saved.</param>
    /// <param name="sha256">The file's SHA-256, or "" when it is missing.</param>
    /// <param name="unhealthyBecause">Set when the supervisor already knows it is not Good (saved while stopping for a rollback).</param>
    public ExternalCheckpoint OnCheckpointSaved(string path, int step, string sha256, string? unhealthyBecause = null)
    {
        string? note = unhealthyBecause;
        if (note is null && sha256.Length == 0) note = "The file does not exist.";
        if (note is null && !GoodCheckpointRule.IsGoodAtSave(_consecutiveFinite, Controller.LossSpiking, _lastLoss, static () => true))
            note = Controller.LossSpiking ? "A loss spike was in progress at save."
                : FormattableString.Invariant($"Only {_consecutiveFinite} finite steps in a row before the save (needs {GoodCheckpointRule.FiniteStepsBeforeGood}).");
        var entry = new ExternalCheckpoint
        {
            Path = path, Step = step, Good = note is null ? null : false, Sha256 = sha256, Saved = _time.GetUtcNow(),
            Loss = double.IsFinite(_lastLoss) ? _lastLoss : null, Diagonality = _lastAlignment?.Diagonality, Note = note,
        };
        Ledger.Add(entry);
        LedgerChanged = true;
        return entry;
    }

    /// <summary>
    /// The command ended by itself or on a stop request (exit 0): a pending checkpoint saved at the last step is Good
    /// (it was healthy at save and no step followed that could void it), as our engine's stop checkpoint is. Returns the
    /// confirmation events.
    /// </summary>
    public IReadOnlyList<TrainingEvent> OnCleanExit()
    {
        var events = new List<TrainingEvent>();
        foreach (var p in Ledger.Pending.Where(p => p.Step >= LastStep))
        {
            Ledger.Update(p with { Good = true, Note = null });
            LedgerChanged = true;
            events.Add(Confirmed(p, "saved at the last step, healthy"));
        }
        return events;
    }

    /// <summary>
    /// The command is being restarted (rollback, death, new session): checkpoints still pending can no longer be
    /// confirmed by the steps that follow them and are not Good; the finite-step count starts again.
    /// </summary>
    /// <param name="why">Why, for the ledger notes.</param>
    public void OnRestart(string why)
    {
        foreach (var p in Ledger.Pending)
        {
            Ledger.Update(p with { Good = false, Note = $"Not confirmed: {why}" });
            LedgerChanged = true;
        }
        _consecutiveFinite = 0;
        _lastLoss = double.NaN;
    }

    /// <summary>Replaces the controller with one from <paramref name="state"/> (after the supervisor decided on a death from the persisted state).</summary>
    public void Reload(RecoveryState state) =>
        Controller = new RecoveryController(_config.Recovery, _config.Training, _config.GuidedAttention, state);

    /// <summary>The events of <paramref name="decisions"/> (the adapter reported the skips; None is not reported).</summary>
    public IReadOnlyList<TrainingEvent> Report(IEnumerable<RecoveryDecision> decisions)
    {
        var events = new List<TrainingEvent>();
        foreach (var d in decisions)
        {
            if (d.Action is RecoveryAction.SkipStep or RecoveryAction.None) continue;
            var e = d.ToEvent(_run, _time.GetUtcNow());
            events.Add(d.Action switch
            {
                RecoveryAction.ReinitializeAttention => e with { Message = e.Message + " Not applied to an external command (its attention layers are the script's): it restarts from the checkpoint with the raised guided-attention weight." },
                RecoveryAction.HalveBatch => e with { Message = e.Message + " Not applied to an external command (its batch size is the script's)." },
                _ => e,
            });
        }
        return events;
    }

    private void ConfirmPending(IReadOnlyList<RecoveryDecision> decisions, int step, List<TrainingEvent> events)
    {
        var pending = Ledger.Pending;
        if (pending.Count == 0) return;
        if (GoodCheckpointRule.VoidsPending(decisions, Controller.LossSpiking, _consecutiveFinite))
        {
            foreach (var p in pending) Ledger.Update(p with { Good = false, Note = FormattableString.Invariant($"Voided at step {step}: a fault followed the save.") });
            LedgerChanged = true;
            return;
        }
        foreach (var p in pending.Where(p => GoodCheckpointRule.IsConfirmed(p.Step, step, _config.Recovery)))
        {
            Ledger.Update(p with { Good = true });
            LedgerChanged = true;
            events.Add(Confirmed(p, FormattableString.Invariant($"{step - p.Step} healthy steps")));
        }
    }

    private TrainingEvent Confirmed(ExternalCheckpoint p, string why) => new()
    {
        Run = _run, Step = LastStep, Time = _time.GetUtcNow(), Kind = EventKinds.Checkpoint, Code = EventCodes.CheckpointConfirmed,
        Severity = EventSeverity.Info, Message = $"Checkpoint {Path.GetFileName(p.Path)} confirmed good ({why}).",
        Data = new JsonObject { ["path"] = p.Path, ["step"] = p.Step },
    };
}

/// <summary>What one record meant: the controller's decisions (act on Rollback and Exhausted) and the events to write.</summary>
/// <param name="Decisions">Every decision, SkipStep included.</param>
/// <param name="Events">Events to append to events.jsonl (decisions except SkipStep and None, checkpoint confirmations).</param>
public sealed record SupervisionUpdate(IReadOnlyList<RecoveryDecision> Decisions, IReadOnlyList<TrainingEvent> Events)
{
    /// <summary>The Rollback decision, if any.</summary>
    public RecoveryDecision? Rollback => Decisions.FirstOrDefault(d => d.Action == RecoveryAction.Rollback);

    /// <summary>True when recovery is exhausted with this record.</summary>
    public bool Exhausted => Decisions.Any(d => d.Action == RecoveryAction.Exhausted);
}
