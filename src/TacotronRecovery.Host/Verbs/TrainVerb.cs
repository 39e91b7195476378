using System.Runtime.InteropServices;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Engine.Runtime;
using TacotronRecovery.Engine.Training;
using TacotronRecovery.Core.Contract;

namespace TacotronRecovery.Host.Verbs;

/// <summary>
/// <c>train</c>: one engine process training one run. Options: --config, --run, --runs-root, --dataset, --preset,
/// --max-steps, --device, --threads, --resume, --checkpoint, --emergency REASON, --quiet; from the supervisor also
/// --supervised (the supervisor owns the stop request) and --restarted (continue the recovery state the supervisor
/// wrote to recovery-state.json after the previous engine died).
/// </summary>
public static class TrainVerb
{
    /// <summary>Runs the verb; returns the process exit code (see <see cref="ExitCodes"/>).</summary>
    public static int Run(Arguments args)
    {
        var session = RunSession.Open(args, verb: "train");
        bool restarted = args.Has("restarted");
        bool supervised = args.Has("supervised");
        bool resume = args.Has("resume");
        var checkpoint = args.Get("checkpoint");
        bool quiet = args.Has("quiet");
        var emergency = args.Get("emergency");
        args.RejectUnknown();
        using var _ = session;
        var config = session.Config;
        var run = session.Run;

        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        // A standalone engine owns the stop request; under a supervisor the supervisor clears it when its session starts
        // and once the run has stopped, so that a request made while an engine restarts is not lost.
        if (!supervised) run.ClearStopRequest();
        // A supervised engine whose supervisor died (kill -9, OOM killer) would train on with nobody to restart, stop or
        // report it, holding the run's lock (found by the kill -9 soak): once it is re-parented it stops as if asked to,
        // with a final checkpoint, and `Start-TacotronTraining -Resume` continues the run.
        int parent = supervised && !OperatingSystem.IsWindows() ? Detach.ParentProcessId() : 0;
        int orphaned = 0;
        using var watcher = new Timer(_ =>
        {
            if (File.Exists(run.StopRequestFile)) stop.Cancel();
            if (parent > 0 && Detach.ParentProcessId() != parent && Interlocked.Exchange(ref orphaned, 1) == 0)
            {
                // The engine's stderr went to the dead supervisor: the line goes to the run's supervisor log instead.
                string line = $"The supervisor (pid {parent}) is gone; stopping with a checkpoint. Resume with Start-TacotronTraining -Resume.";
                try { File.AppendAllText(run.SupervisorLog, $"{DateTimeOffset.UtcNow:O} engine pid {Environment.ProcessId}: {line}{Environment.NewLine}"); }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
                stop.Cancel();
            }
        }, null, 250, 250);

        var alerts = new AlertBridge(config, run, warning => Console.Error.WriteLine("warning: " + warning));
        using var sink = new RunSink(run, stdout: !quiet, tensorboard: config.Training.TensorBoard, alerts);
        try
        {
            int code = Train(session, sink, restarted, resume, checkpoint, emergency, stop.Token);
            if (!supervised && code == ExitCodes.Ok) run.ClearStopRequest();
            return code;
        }
        finally
        {
            alerts.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static int Train(RunSession session, RunSink sink, bool restarted, bool resume, string? checkpoint, string? emergency, CancellationToken stopToken)
    {
        var config = session.Config;
        var run = session.Run;
        session.AttachPlots(sink);
        var device = TorchRuntime.ResolveDevice(config.Training.Device);
        TorchRuntime.SetThreads(config.Training.Threads);

        foreach (var name in run.RemoveOrphanedTempFiles()) sink.Log($"removed {name}, left by a writer that was killed mid-write");
        var data = DataLoading.Load(config, sink);
        sink.Log($"engine {Environment.ProcessId} on {device.type}, {TorchSharp.torch.get_num_threads()} threads: {data.Train.Count} training and {data.Validation.Count} validation utterances");
        session.SetState(RunStatus.Running, 0, $"training on {device.type}");

        using var trainer = new Trainer(config, run, device, data.Train, data.Validation, sink);
        // After a death the supervisor has already asked the recovery controller (restart count, level) and written its
        // state to recovery-state.json: continue from that, not from the older state inside the checkpoint.
        var recoveryState = restarted ? Core.Recovery.RecoveryStateStore.TryRead(run.RecoveryStateFile) : null;
        trainer.Start(resume || restarted || emergency is not null || checkpoint is not null, checkpoint, recoveryState);
        if (restarted) trainer.Controller.OnRollbackCompleted(trainer.Step);
        else trainer.Controller.ResetRestartBudget();
        Core.Recovery.RecoveryStateStore.Write(run.RecoveryStateFile, trainer.Controller.State);
        sink.RecoveryState = () => trainer.Controller.State;
        if (emergency is not null)
        {
            var last = JsonLines.ReadLast<AlignmentMetrics>(run.AlignmentFile, 1).LastOrDefault();
            trainer.Emergency(emergency, last?.Diagonality);
        }
        sink.Event(new TrainingEvent
        {
            Run = run.Name, Step = trainer.Step, Time = DateTimeOffset.UtcNow, Kind = EventKinds.Started, Code = EventCodes.TrainingStarted,
            Severity = EventSeverity.Info,
            Message = $"Training {(trainer.Step > 0 ? "resumed at step " + trainer.Step : "started")}: preset {config.Model.Preset}, {trainer.Model.ParameterCount():N0} parameters, up to step {config.Training.MaxSteps}.",
        });

        // An exception escaping a timer callback ends the process with SIGABRT (exit 134), so the heartbeat must not
        // throw: a failed write (disk full, a folder removed under it) is reported and the next beat tries again.
        var heartbeat = new Timer(_ =>
        {
            try { session.SetState(RunStatus.Running, trainer.Step, null); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Console.Error.WriteLine($"warning: run.json heartbeat: {e.Message}"); }
        }, null, 2000, 2000);
        TrainingOutcome outcome;
        try
        {
            outcome = trainer.Run(config.Training.MaxSteps, stopToken);
        }
        finally
        {
            // Wait for a beat in flight: it would otherwise overwrite the final state below with Running.
            using var beatsDone = new ManualResetEvent(false);
            if (heartbeat.Dispose(beatsDone)) beatsDone.WaitOne(TimeSpan.FromSeconds(10));
        }

        var (status, code, message, eventCode, severity) = outcome switch
        {
            TrainingOutcome.Completed => (RunStatus.Completed, ExitCodes.Ok, $"Completed at step {trainer.Step}.", EventCodes.TrainingCompleted, EventSeverity.Info),
            TrainingOutcome.Stopped => (RunStatus.Stopped, ExitCodes.Ok, $"Stopped on request at step {trainer.Step} (checkpoint saved).", EventCodes.TrainingStopped, EventSeverity.Info),
            _ => (RunStatus.Failed, ExitCodes.Exhausted, $"Recovery exhausted at step {trainer.Step}: {trainer.Controller.State.Diagnosis}", EventCodes.RecoveryExhausted, EventSeverity.Critical),
        };
        sink.Event(new TrainingEvent
        {
            Run = run.Name, Step = trainer.Step, Time = DateTimeOffset.UtcNow, Kind = outcome.ToString(), Code = eventCode,
            Severity = severity, Message = message,
        });
        session.SetState(status, trainer.Step, message, code);
        return code;
    }
}
