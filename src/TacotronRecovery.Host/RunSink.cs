using TacotronRecovery.Core;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Engine.Training;
using TorchSharp.Modules;
using TacotronRecovery.Core.Contract;

namespace TacotronRecovery.Host;

/// <summary>
/// Writes what the trainer reports to the run directory (JSONL files flushed per record, training.log,
/// TensorBoard scalars, attention PNGs) and, unless quiet, one JSON line per record to stdout:
/// <c>{"type":"step"|"alignment"|"event","data":{...}}</c> (<see cref="EngineEnvelope"/>).
/// </summary>
public sealed class RunSink : IRunSink, IDisposable
{
    private readonly RunDirectory _run;
    private readonly bool _stdout;
    private readonly JsonLinesWriter<StepMetrics> _metrics;
    private readonly JsonLinesWriter<AlignmentMetrics> _alignment;
    private readonly JsonLinesWriter<TrainingEvent> _events;
    private readonly StreamWriter _log;
    private readonly SummaryWriter? _tensorboard;
    private readonly AlertBridge? _alerts;
    private readonly object _gate = new();

    /// <summary>Opens the run's files for appending.</summary>
    public RunSink(RunDirectory run, bool stdout, bool tensorboard, AlertBridge? alerts = null)
    {
        _run = run;
        _stdout = stdout;
        _metrics = new JsonLinesWriter<StepMetrics>(run.MetricsFile);
        _alignment = new JsonLinesWriter<AlignmentMetrics>(run.AlignmentFile);
        _events = new JsonLinesWriter<TrainingEvent>(run.EventsFile);
        _log = new StreamWriter(new FileStream(run.LogFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        if (tensorboard) _tensorboard = TorchSharp.torch.utils.tensorboard.SummaryWriter(run.TensorBoardDir, "", false);
        _alerts = alerts;
    }

    /// <summary>
    /// The recovery controller's current state; when set, every event also rewrites the run's recovery-state.json, so
    /// the supervisor decides a restart from the newest state rather than from the last checkpoint's.
    /// </summary>
    public Func<Core.Recovery.RecoveryState>? RecoveryState { get; set; }

    /// <summary>Plot writer for attention heatmaps (set by the host when plotting is available).</summary>
    public Action<string, float[], int, int, string>? PlotAlignment { get; set; }

    /// <inheritdoc />
    public void Step(StepMetrics m)
    {
        _metrics.Append(m);
        if (_tensorboard is not null)
        {
            Scalar("loss/total", m.Loss, m.Step);
            Scalar("loss/mel", m.MelLoss, m.Step);
            Scalar("loss/mel_postnet", m.MelPostnetLoss, m.Step);
            Scalar("loss/gate", m.GateLoss, m.Step);
            Scalar("loss/guided_attention", m.GuidedAttentionLoss, m.Step);
            Scalar("train/grad_norm", m.GradNorm, m.Step);
            Scalar("train/learning_rate", m.LearningRate, m.Step);
            Scalar("train/guided_attention_weight", m.GuidedAttentionWeight, m.Step);
            Scalar("train/safe_mode_level", m.SafeModeLevel, m.Step);
        }
        Emit(EngineEnvelope.Step, m);
        _alerts?.OnStep(m);
    }

    /// <inheritdoc />
    public void Alignment(AlignmentMetrics m)
    {
        _alignment.Append(m);
        if (_tensorboard is not null)
        {
            var p = m.Source + "/";
            Scalar(p + "diagonality", m.Diagonality, m.Step);
            Scalar(p + "focus_rate", m.FocusRate, m.Step);
            Scalar(p + "coverage", m.Coverage, m.Step);
            Scalar(p + "monotonicity", m.Monotonicity, m.Step);
            Scalar(p + "gate_accuracy", m.GateAccuracy, m.Step);
            Scalar(p + "quality", m.Quality, m.Step);
            if (m.StopAccuracy is double s) Scalar(p + "stop_accuracy", s, m.Step);
            if (m.ValidationMelLoss is double v) Scalar(p + "mel_loss", v, m.Step);
        }
        Log($"step {m.Step} {m.Source}: diagonality {Figures.Share(m.Diagonality)}, gate accuracy {Figures.Share(m.GateAccuracy)}, quality {Figures.Percent(m.Quality)}"
            + (m.StopAccuracy is double sa ? $", stop accuracy {Figures.Share(sa)}" : ""));
        Emit(EngineEnvelope.Alignment, m);
        _alerts?.OnAlignment(m);
    }

    /// <inheritdoc />
    public void Event(TrainingEvent e)
    {
        _events.Append(e);
        if (RecoveryState is { } state) Core.Recovery.RecoveryStateStore.Write(_run.RecoveryStateFile, state());
        Log($"[{e.Severity}] {e.Code}: {e.Message}");
        Emit(EngineEnvelope.Event, e);
        _alerts?.OnEvent(e);
    }

    /// <inheritdoc />
    public void Log(string line)
    {
        lock (_gate) _log.WriteLine($"{DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss} {line}");
    }

    /// <inheritdoc />
    public void AlignmentPlot(int step, float[] alignment, int steps, int tokens, string title)
    {
        if (PlotAlignment is null) return;
        try { PlotAlignment(_run.AlignmentPlotPath(step), alignment, steps, tokens, title); }
        catch (Exception e) when (e is IOException or InvalidOperationException or ArgumentException or DllNotFoundException or TypeInitializationException)
        {
            Log($"could not render the attention plot at step {step}: {e.Message}");
        }
    }

    private void Scalar(string tag, double value, int step)
    {
        if (double.IsFinite(value)) _tensorboard!.add_scalar(tag, (float)value, step);
    }

    private void Emit(string type, object data)
    {
        if (_stdout) EngineEnvelope.Write(Console.Out, type, data);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _metrics.Dispose();
        _alignment.Dispose();
        _events.Dispose();
        _log.Dispose();
    }
}
