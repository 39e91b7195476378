using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Recovery;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Engine.Checkpoints;
using TacotronRecovery.Engine.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using TacotronRecovery.Core.Contract;

namespace TacotronRecovery.Engine.Training;

/// <summary>How a training session ended.</summary>
public enum TrainingOutcome
{
    /// <summary>max_steps reached.</summary>
    Completed,
    /// <summary>Stopped on request (Ctrl+C, SIGTERM, stop file) after a checkpoint.</summary>
    Stopped,
    /// <summary>The recovery budget is spent; everything kept, diagnosis reported.</summary>
    Exhausted,
}

/// <summary>
/// The training loop. One thread, one dispose scope per step. Every step: forward, masked losses, a finiteness check
/// of each component, backward, clipping (pre-clip norm reported), then the recovery controller decides — a
/// non-finite loss or gradient norm means no optimizer step, so weights never receive a non-finite update.
/// The step counter only moves forward: a rollback restores weights and optimizer state, not the step number.
/// Dropout is seeded from (seed, step) at every step, so a resumed run reproduces an uninterrupted one.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly TacotronConfig _config;
    private readonly RunDirectory _run;
    private readonly torch.Device _device;
    private readonly IReadOnlyList<TrainingExample> _train;
    private readonly IReadOnlyList<TrainingExample> _validation;
    private readonly IRunSink _sink;
    private readonly Tacotron2 _model;
    private readonly OptimizerHelper _optimizer;
    private readonly Tacotron2Loss _loss;
    private RecoveryController _controller;
    private readonly BatchSampler _sampler;
    private readonly FaultInjector _faults;
    private readonly CheckpointStore _checkpoints;
    private readonly Parameter[] _parameters;
    private readonly MmiTraining? _mmi;
    private readonly int _r;
    private AlignmentMetrics? _lastAlignment;
    private AlignmentMetrics? _lastValidation;
    private double _lastLoss = double.NaN;
    private int _consecutiveFinite;
    private readonly Runtime.PrecisionPlan _precision;
    private readonly GradScaler? _scaler;

    /// <summary>Builds model, optimizer and controller; <see cref="Start"/> initialises or resumes.</summary>
    public Trainer(TacotronConfig config, RunDirectory run, torch.Device device,
        IReadOnlyList<TrainingExample> train, IReadOnlyList<TrainingExample> validation, IRunSink sink)
    {
        _config = config;
        _run = run;
        _device = device;
        _train = train;
        _validation = validation;
        _sink = sink;
        _r = config.Model.NFramesPerStep;
        torch.manual_seed(config.Training.Seed);
        // The gate's pos_weight goes with the weights (and into every checkpoint) so inference can undo its bias.
        _model = new Tacotron2("tacotron2", config.Model with { TrainedGatePosWeight = config.Training.GatePosWeight });
        _model.to(device);
        _parameters = _model.parameters().ToArray();
        var t = config.Training;
        _optimizer = Optimizers.Create(t.Optimizer, _parameters, t.LearningRate, t.WeightDecay);
        _loss = new Tacotron2Loss(t.GatePosWeight, config.GuidedAttention.Sigma);
        _precision = Runtime.PrecisionPlan.Resolve(t.MixedPrecision, device);
        _scaler = _precision.ScalesLoss ? new GradScaler() : null;
        _controller = NewController(null);
        _sampler = new BatchSampler(train.Select(e => e.Mel.Frames).ToArray(), t.BatchSize, t.Seed);
        _faults = new FaultInjector(config.Faults, run.Path);
        _checkpoints = new CheckpointStore(run, config);
        // Created after the model and the optimizer, from its own seed: the Tacotron starts from the same weights with
        // and without MMI.
        if (t.Mmi) _mmi = new MmiTraining(config, train, device, unchecked(t.Seed + 1));
    }

    /// <summary>The model (for tests and synthesis).</summary>
    public Tacotron2 Model => _model;
    /// <summary>MMI's recogniser and mean mel when <c>training.mmi</c> is on (for tests).</summary>
    public MmiTraining? Mmi => _mmi;
    /// <summary>The recovery controller.</summary>
    public RecoveryController Controller => _controller;
    /// <summary>What training.mixed_precision resolved to on this device.</summary>
    public Runtime.PrecisionPlan Precision => _precision;
    /// <summary>The fp16 loss scaler (null unless mixed precision resolved to fp16).</summary>
    public GradScaler? Scaler => _scaler;

    // The controller owns the mixed-precision knob; it is told the mode that really runs here (auto resolved), so that
    // its knobs and safe-mode messages name what is switched, and nothing when fp32 ran anyway.
    private RecoveryController NewController(RecoveryState? state) =>
        new(_config.Recovery, _config.Training with { MixedPrecision = _precision.Mode }, _config.GuidedAttention, state);
    /// <summary>Last completed step.</summary>
    public int Step { get; private set; }
    /// <summary>Seconds per step, median of the recent steps (for forecasts).</summary>
    public double SecondsPerStep => _stepTimes.Count == 0 ? double.NaN : _stepTimes.OrderBy(x => x).ElementAt(_stepTimes.Count / 2);
    private readonly Queue<double> _stepTimes = new();

    /// <summary>
    /// Resumes from <paramref name="checkpoint"/> (or the run's last good checkpoint when <paramref name="resume"/>),
    /// else saves the initial weights as step 0 so that a rollback always has a target. The recovery controller continues
    /// from <paramref name="recoveryState"/> when given (a supervisor restart: the run's recovery-state.json, newer than
    /// any checkpoint), else from the checkpoint's state.
    /// </summary>
    public void Start(bool resume, string? checkpoint = null, RecoveryState? recoveryState = null)
    {
        if (recoveryState is not null)
            _controller = NewController(recoveryState);
        string? path = checkpoint;
        if (path is null && resume) path = _checkpoints.SelectLastGood(out _)?.Path;
        if (path is not null)
        {
            var loaded = CheckpointFile.Read(path);
            loaded.ApplyTo(_model);
            loaded.ApplyTo(_optimizer);
            RestoreMmi(loaded);
            var meta = loaded.Meta;
            Step = meta["step"]?.GetValue<int>() ?? 0;
            int epoch = meta["epoch"]?.GetValue<int>() ?? 0;
            int position = meta["position"]?.GetValue<int>() ?? 0;
            int batch = meta["batch_size"]?.GetValue<int>() ?? _config.Training.BatchSize;
            _sampler.Resize(batch);
            _sampler.Restore(epoch, position);
            if (recoveryState is null && meta["controller"] is JsonNode state && state.Deserialize<RecoveryState>(RunJson.Options) is { } s)
                _controller = NewController(s);
            _scaler?.Restore(meta["grad_scaler"]);
            _sink.Log($"resumed from {path} at step {Step}");
            // A checkpoint from elsewhere becomes this run's first rollback target.
            if (checkpoint is not null && !IsInRun(checkpoint)) SaveCheckpoint(good: true, reason: "start");
            _sink.Event(Event(EventCodes.Resumed, EventSeverity.Info, $"Resumed from {System.IO.Path.GetFileName(path)} at step {Step}.", new JsonObject { ["checkpoint"] = path }));
        }
        else
        {
            SaveCheckpoint(good: true, reason: "initial");
        }
        if (_precision.Requested != MixedPrecisionMode.Off)
        {
            string now = _controller.SafeModeLevel > 0 && _precision.Mode != MixedPrecisionMode.Off
                ? $" Off for now: safe-mode level {_controller.SafeModeLevel}; on again at level 0." : "";
            string scale = _scaler is null ? "" : FormattableString.Invariant($" Loss scale {_scaler.Scale:G6}.");
            _sink.Event(Event(EventCodes.MixedPrecision, _precision.Mode == MixedPrecisionMode.Off || _precision.Emulated ? EventSeverity.Warning : EventSeverity.Info,
                $"training.mixed_precision {Name(_precision.Requested)}: {_precision.Why}{now}{scale}",
                new JsonObject
                {
                    ["requested"] = Name(_precision.Requested), ["mode"] = Name(_precision.Mode), ["emulated"] = _precision.Emulated,
                    ["loss_scale"] = _scaler?.Scale,
                }));
        }
    }

    private static string Name(MixedPrecisionMode mode) => mode.ToString().ToLowerInvariant();

    private bool IsInRun(string path) =>
        string.Equals(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)), System.IO.Path.GetFullPath(_run.CheckpointsDir), StringComparison.Ordinal);

    /// <summary>
    /// Emergency recovery requested by an operator, after <see cref="Start"/> restored the last good checkpoint:
    /// safe mode one level up and, unless attention is well aligned, attention critical mode at once.
    /// </summary>
    public IReadOnlyList<RecoveryDecision> Emergency(string reason, double? lastDiagonality)
    {
        var decisions = _controller.OnEmergency(Step, reason, lastDiagonality);
        foreach (var d in decisions) Report(d);
        return decisions;
    }

    /// <summary>Trains until max steps, a stop request or exhaustion.</summary>
    public TrainingOutcome Run(int maxSteps, CancellationToken stop)
    {
        if (_controller.IsExhausted) return TrainingOutcome.Exhausted;
        var t = _config.Training;
        while (Step < maxSteps)
        {
            if (stop.IsCancellationRequested)
            {
                SaveCheckpoint(good: IsHealthyNow(), reason: "stop");
                // The checkpoint is safe first; then free-running metrics of the state the run stops in.
                if (t.ValidationEverySteps > 0 && (_lastValidation?.Step ?? -1) < Step) Validate();
                return TrainingOutcome.Stopped;
            }
            int step = Step + 1;
            if (_faults.KillAt(step))
            {
                _sink.Log($"fault injection: killing the engine at step {step}");
                Environment.FailFast($"fault injection: engine killed at step {step}");
            }
            var decisions = TrainStep(step);
            Step = step;
            foreach (var d in decisions) Report(d);
            foreach (var d in decisions) Apply(d);
            if (_controller.IsExhausted)
            {
                SaveCheckpoint(good: false, reason: "exhausted");
                return TrainingOutcome.Exhausted;
            }
            if (t.ValidationEverySteps > 0 && Step % t.ValidationEverySteps == 0) Validate();
            ConfirmPendingCheckpoint(decisions);
            if (t.CheckpointEverySteps > 0 && Step % t.CheckpointEverySteps == 0) SaveCheckpoint(IsHealthyNow(), "scheduled", confirmLater: true);
            if (_faults.CorruptCheckpointAt(Step)) CorruptNewestCheckpoint();
            if (_faults.AttentionCollapseAt(Step) is { } mode) CollapseAttention(mode);
        }
        if (t.ValidationEverySteps > 0 && Step % t.ValidationEverySteps != 0) Validate();
        SaveCheckpoint(IsHealthyNow(), "final");
        return TrainingOutcome.Completed;
    }

    private IReadOnlyList<RecoveryDecision> TrainStep(int step)
    {
        var sw = Stopwatch.StartNew();
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(unchecked(_config.Training.Seed * 1_000_003L + step));
        var indices = _sampler.Next();
        using var batch = TrainingBatch.Collate(indices.Select(i => _train[i]).ToArray(), _r, _device);

        double scheduled = LearningRateSchedule.At(_config.Training, step) * _faults.LearningRateFactor(step);
        var knobs = _controller.KnobsFor(scheduled);
        double lr = knobs.LearningRate;
        foreach (var g in _optimizer.ParamGroups) g.LearningRate = lr;
        double gaWeight = knobs.GuidedAttentionEnabled ? knobs.GuidedAttentionWeight : 0.0;

        _model.train();
        bool oom = false;
        Tacotron2Output? output = null;
        LossComponents? losses = null;
        // Safe mode owns the knobs: mixed precision and MMI are off at level ≥ 1 and back at level 0 (the products are
        // fp32 again and the recogniser stops, not just reported so).
        var productType = knobs.MixedPrecision ? _precision.ProductType : null;
        var scaler = productType is not null ? _scaler : null;
        // MMI: frame dropout on the decoder's inputs, the recogniser's loss on its outputs, and the gradient-adaptive
        // factor where the two gradients meet.
        var mmi = knobs.Mmi ? _mmi : null;
        var junction = mmi is null ? null : new GradientAdaptiveFactor();
        try
        {
            var inputs = mmi is null ? batch.Mels : mmi.Inputs(batch);
            using (MixedPrecision.Enable(productType))
                output = _model.Forward(batch.Text, batch.TextLengths, inputs, batch.MelLengths, junction);
            losses = _loss.Compute(output, batch.Mels, batch.GateTargets, batch.MelLengths, batch.TextLengths, gaWeight, _r);
            if (mmi is not null) losses = mmi.AddLoss(losses, output, batch);
        }
        catch (Exception e) when (IsOutOfMemory(e))
        {
            oom = true;
        }

        double mel = double.NaN, post = double.NaN, gate = double.NaN, ga = double.NaN, total = double.NaN, gradNorm = double.NaN;
        bool overflow = false;
        double? mmiLoss = null;
        if (losses is not null)
        {
            var components = losses;
            if (_faults.NanComponentAt(step) is { } bad)
            {
                if (bad == "mmi" && components.Mmi is null)
                {
                    _sink.Log($"fault injection: no NaN in mmi at step {step}: MMI is off at this step (safe mode)");
                }
                else
                {
                    components = InjectNaN(components, bad, gaWeight, _mmi?.Weight ?? 0);
                    _sink.Log($"fault injection: NaN in {bad} at step {step}");
                }
            }
            mel = components.Mel.item<float>();
            post = components.MelPostnet.item<float>();
            gate = components.Gate.item<float>();
            ga = components.GuidedAttention.item<float>();
            if (components.Mmi is not null) mmiLoss = components.Mmi.item<float>();
            total = components.Total.item<float>();
            if (double.IsFinite(total) && double.IsFinite(mel) && double.IsFinite(post) && double.IsFinite(gate) && double.IsFinite(ga)
                && (mmiLoss is not { } m || double.IsFinite(m)))
            {
                if (scaler is null) components.Total.backward();
                else scaler.ScaleLoss(components.Total).backward();
                scaler?.Unscale(_parameters); // before clipping: the threshold applies to the true gradients
                if (scaler is not null && mmi is not null) scaler.Unscale(mmi.Recognizer.parameters());
                gradNorm = torch.nn.utils.clip_grad_norm_(_parameters, knobs.ClipThreshold);
                if (scaler is not null)
                {
                    overflow = !double.IsFinite(gradNorm);
                    double before = scaler.Update(overflow);
                    if (overflow)
                        _sink.Event(Event(EventCodes.LossScaleOverflow, EventSeverity.Info,
                            FormattableString.Invariant($"fp16 gradients overflowed at step {step}: step skipped, loss scale {before:G6} → {scaler.Scale:G6}."),
                            new JsonObject { ["scale_before"] = before, ["scale_after"] = scaler.Scale, ["grad_norm"] = gradNorm.ToString(System.Globalization.CultureInfo.InvariantCulture) }) with { Step = step });
                }
            }
        }

        bool weightsFinite = true;
        if (_config.Health.ParameterCheckEverySteps > 0 && step % _config.Health.ParameterCheckEverySteps == 0)
            weightsFinite = WeightsFinite();
        var observation = new StepObservation(step, mel, post, gate, ga, total, gradNorm, weightsFinite, oom, overflow, mmiLoss);
        var decisions = _controller.OnStep(observation, scheduled);
        bool finite = observation.IsFinite;
        bool skip = !finite || decisions.Any(d => d.Action == RecoveryAction.SkipStep);
        if (!skip)
        {
            _optimizer.step();
            mmi?.Step(lr, knobs.ClipThreshold);
        }
        _optimizer.zero_grad();
        _mmi?.ZeroGrad();
        // An fp16 overflow the scaler handled leaves the weights untouched: it neither counts as healthy nor breaks the
        // healthy streak; one the controller counted (it persisted) does.
        bool toleratedOverflow = overflow && !decisions.Any(d => d.Action == RecoveryAction.SkipStep);
        if (!toleratedOverflow) _consecutiveFinite = skip ? 0 : _consecutiveFinite + 1;
        // The checkpoint's loss (what Best compares) is the Tacotron's alone: MMI going off in safe mode must not make
        // later checkpoints look better.
        if (finite) _lastLoss = mmiLoss is { } ml ? total - _mmi!.Weight * ml : total;

        if (output is not null && _config.Training.AlignmentEverySteps > 0 && step % _config.Training.AlignmentEverySteps == 0)
        {
            var m = AlignmentMeasurement.FromTeacherForced(output, batch, _r, step, _run.Name);
            _lastAlignment = m;
            _sink.Alignment(m);
            decisions = decisions.Concat(_controller.OnAlignment(m)).ToList();
        }

        sw.Stop();
        _stepTimes.Enqueue(sw.Elapsed.TotalSeconds);
        if (_stepTimes.Count > 50) _stepTimes.Dequeue();
        _sink.Step(new StepMetrics
        {
            Run = _run.Name, Step = step, Time = DateTimeOffset.UtcNow, Epoch = _sampler.Epoch, LearningRate = lr,
            Loss = total, MelLoss = mel, MelPostnetLoss = post, GateLoss = gate, GuidedAttentionLoss = ga,
            GuidedAttentionWeight = gaWeight, MmiLoss = mmiLoss, MmiFactor = mmiLoss is null ? null : junction?.Factor,
            GradNorm = gradNorm, ClipThreshold = knobs.ClipThreshold, Skipped = skip, LossScaleOverflow = toleratedOverflow ? true : null,
            SafeModeLevel = _controller.SafeModeLevel, Mode = _controller.Mode, BatchSize = batch.Size,
            StepSeconds = sw.Elapsed.TotalSeconds,
        });
        return decisions;
    }

    private static LossComponents InjectNaN(LossComponents c, string component, double gaWeight, double mmiWeight)
    {
        var nan = torch.tensor(float.NaN);
        var one = Scalars.One;
        var mel = component == "mel" ? c.Mel.add(nan, one) : c.Mel;
        var post = component == "mel_postnet" ? c.MelPostnet.add(nan, one) : c.MelPostnet;
        var gate = component == "gate" ? c.Gate.add(nan, one) : c.Gate;
        var ga = component == "guided_attention" ? c.GuidedAttention.add(nan, one) : c.GuidedAttention;
        var mmi = component == "mmi" ? c.Mmi?.add(nan, one) : c.Mmi;
        using var weight = gaWeight.ToScalar();
        var total = mel.add(post, one).add(gate, one).add(ga.mul(weight), one);
        if (mmi is null) return new LossComponents(mel, post, gate, ga, total);
        using var w = mmiWeight.ToScalar();
        return new LossComponents(mel, post, gate, ga, total.add(mmi, w), mmi);
    }

    /// <summary>The MMI recogniser and its optimizer from a checkpoint, when this run trains with MMI.</summary>
    private void RestoreMmi(LoadedCheckpoint loaded)
    {
        if (_mmi is null) return;
        if (!_mmi.Restore(loaded))
            _sink.Log($"{System.IO.Path.GetFileName(loaded.Path)} has no MMI recogniser (saved without training.mmi, or imported): the recogniser continues as it is");
    }

    private void Apply(RecoveryDecision d)
    {
        switch (d.Action)
        {
            case RecoveryAction.Rollback:
                Rollback(d.Target ?? RollbackTarget.LastGood);
                break;
            case RecoveryAction.ReinitializeAttention:
                _model.ReinitializeAttention(unchecked(_config.Training.Seed + Step));
                break;
            case RecoveryAction.HalveBatch:
                _sampler.Resize(d.After.BatchSize);
                break;
        }
    }

    private void Rollback(RollbackTarget target)
    {
        var entry = target == RollbackTarget.LastWellAligned
            ? _checkpoints.SelectLastWellAligned(out var skipped) ?? _checkpoints.SelectLastGood(out skipped)
            : _checkpoints.SelectLastGood(out skipped);
        foreach (var s in skipped)
            _sink.Event(Event(EventCodes.CheckpointRejected, EventSeverity.Warning, s, null));
        if (entry is null)
        {
            _sink.Event(Event(EventCodes.RollbackImpossible, EventSeverity.Critical, "No verified good checkpoint to roll back to; continuing with the current weights.", null));
            return;
        }
        var loaded = CheckpointFile.Read(entry.Path);
        loaded.ApplyTo(_model);
        loaded.ApplyTo(_optimizer);
        _optimizer.zero_grad();
        RestoreMmi(loaded);
        _faults.EndLrExplosion();
        int restored = loaded.Meta["step"]?.GetValue<int>() ?? 0;
        _sink.Event(Event(EventCodes.RollbackCompleted, EventSeverity.Warning,
            $"Restored {System.IO.Path.GetFileName(entry.Path)} (step {restored}); training continues at step {Step + 1}.",
            new JsonObject { ["checkpoint"] = entry.Path, ["restored_step"] = restored, ["target"] = target.ToString() }));
        // Steps keep counting forward after a rollback: the controller's attention timers rebase to the step training
        // continues at, not to the restored checkpoint's step.
        foreach (var d in _controller.OnRollbackCompleted(Step)) Report(d);
    }

    private void Validate()
    {
        if (_validation.Count == 0) return;
        var m = Validation.Run(_model, _validation, _config, _device, _r, Step, _run.Name, _sink);
        _lastValidation = m;
        _sink.Alignment(m);
    }

    /// <summary>The most recent alignment measurement, validation preferred at equal steps.</summary>
    private AlignmentMetrics? LatestAlignment =>
        _lastValidation is null ? _lastAlignment
        : _lastAlignment is null || _lastValidation.Step >= _lastAlignment.Step ? _lastValidation : _lastAlignment;

    /// <summary>Good at save (<see cref="GoodCheckpointRule.IsGoodAtSave"/>).</summary>
    private bool IsHealthyNow() => GoodCheckpointRule.IsGoodAtSave(_consecutiveFinite, _controller.LossSpiking, _lastLoss, WeightsFinite);

    private bool WeightsFinite()
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        foreach (var p in _parameters)
            if (!torch.isfinite(p).all().item<bool>()) return false;
        return true;
    }

    /// <summary>A scheduled checkpoint becomes Good once confirmed (<see cref="GoodCheckpointRule"/>).</summary>
    private void ConfirmPendingCheckpoint(IReadOnlyList<RecoveryDecision> decisions)
    {
        if (_pending.Count == 0) return;
        if (GoodCheckpointRule.VoidsPending(decisions, _controller.LossSpiking, _consecutiveFinite))
        {
            _pending.Clear(); // saved while the fault was already under way: never a rollback target
            return;
        }
        while (_pending.Count > 0 && GoodCheckpointRule.IsConfirmed(_pending[0].Step, Step, _config.Recovery))
        {
            var p = _pending[0];
            _pending.RemoveAt(0);
            if (!File.Exists(p.Path)) continue;
            _checkpoints.Record(p.Path, p.Step, true, p.Loss, p.Diagonality, p.GateAccuracy, _pending.Select(x => x.Path));
            _sink.Event(Event(EventCodes.CheckpointConfirmed, EventSeverity.Info,
                $"Checkpoint {System.IO.Path.GetFileName(p.Path)} confirmed good after {Step - p.Step} healthy steps.", new JsonObject { ["path"] = p.Path }));
        }
    }

    private readonly List<(int Step, string Path, double Loss, double? Diagonality, double? GateAccuracy)> _pending = new();

    private void SaveCheckpoint(bool good, string reason, bool confirmLater = false)
    {
        var meta = new JsonObject
        {
            ["format"] = 1,
            ["step"] = Step,
            ["epoch"] = _sampler.Epoch,
            ["position"] = _sampler.Position,
            ["batch_size"] = _sampler.BatchSize,
            ["seed"] = _config.Training.Seed,
            ["reason"] = reason,
            ["created"] = DateTimeOffset.UtcNow.ToString("O"),
            ["model"] = JsonSerializer.SerializeToNode(_model.Options, RunJson.Options),
            ["data"] = JsonSerializer.SerializeToNode(_config.Data with { Path = null, MelCachePath = null, TrainFilelist = null, ValidationFilelist = null }, RunJson.Options),
            ["controller"] = JsonSerializer.SerializeToNode(_controller.State, RunJson.Options),
            ["mixed_precision"] = Name(_precision.Mode),
            ["grad_scaler"] = _scaler?.ToJson(),
            ["loss"] = double.IsFinite(_lastLoss) ? _lastLoss : null,
            ["diagonality"] = LatestAlignment?.Diagonality,
            ["good"] = good,
        };
        var path = _run.CheckpointPath(Step);
        _checkpoints.Forget(path);
        CheckpointFile.Write(path, meta, _model, _optimizer, _mmi?.Sections());
        var latest = LatestAlignment;
        bool pending = good && confirmLater;
        if (pending) _pending.Add((Step, path, _lastLoss, latest?.Diagonality, latest?.GateAccuracy));
        var entry = _checkpoints.Record(path, Step, good && !pending, _lastLoss, latest?.Diagonality, latest?.GateAccuracy, _pending.Select(x => x.Path));
        _sink.Event(Event(EventCodes.CheckpointSaved, EventSeverity.Info,
            $"Checkpoint {System.IO.Path.GetFileName(path)} saved ({reason}; {(pending ? "good once confirmed" : good ? "good" : "not good")}).",
            new JsonObject { ["path"] = path, ["good"] = good, ["well_aligned"] = entry.WellAligned, ["reason"] = reason }));
    }

    /// <summary>
    /// Fault injection: damages the checkpoint a rollback would use now — the newest one confirmed Good (an unconfirmed
    /// newer file is never a rollback target, so corrupting it would test nothing).
    /// </summary>
    private void CorruptNewestCheckpoint()
    {
        var target = _checkpoints.SelectLastGood(out _)?.Path;
        if (target is null) return;
        using (var fs = new FileStream(target, FileMode.Open, FileAccess.ReadWrite))
        {
            fs.Position = fs.Length / 2;
            int b = fs.ReadByte();
            fs.Position = fs.Length / 2;
            fs.WriteByte((byte)(b ^ 0xFF));
        }
        _sink.Log($"fault injection: corrupted {target}");
        _sink.Event(Event(EventCodes.FaultInjected, EventSeverity.Warning, $"Fault injection: corrupted {System.IO.Path.GetFileName(target)} (the newest good checkpoint).", new JsonObject { ["path"] = target }));
    }

    private void CollapseAttention(string mode)
    {
        if (mode == "zero")
        {
            using var _ = torch.no_grad();
            foreach (var (name, p) in _model.named_parameters())
                if (name.StartsWith("decoder.attention_layer.", StringComparison.Ordinal) || name.StartsWith("decoder.attention_rnn.", StringComparison.Ordinal))
                    p.zero_();
        }
        else
        {
            _model.ReinitializeAttention(unchecked(_config.Training.Seed * 7 + Step));
        }
        _sink.Event(Event(EventCodes.FaultInjected, EventSeverity.Warning, $"Fault injection: attention collapsed ({mode}) at step {Step}.", new JsonObject { ["mode"] = mode }));
    }

    private void Report(RecoveryDecision d)
    {
        if (d.Action == RecoveryAction.None) return;
        _sink.Event(d.ToEvent(_run.Name, DateTimeOffset.UtcNow));
        _sink.Log($"step {d.Step}: {d.Action}: {d.Reason} ({d.Evidence})");
    }

    private TrainingEvent Event(string code, EventSeverity severity, string message, JsonObject? data) => new()
    {
        Run = _run.Name, Step = Step, Time = DateTimeOffset.UtcNow, Kind = code.StartsWith(EventKinds.Checkpoint, StringComparison.Ordinal) ? EventKinds.Checkpoint : EventKinds.Training,
        Code = code, Severity = severity, Message = message, Data = data,
    };

    private static bool IsOutOfMemory(Exception e) =>
        e is OutOfMemoryException || e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("DefaultCPUAllocator: can't allocate", StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc />
    public void Dispose()
    {
        _mmi?.Dispose();
        _optimizer.Dispose();
        _model.Dispose();
    }
}
