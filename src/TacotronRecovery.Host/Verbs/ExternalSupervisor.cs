using System.Diagnostics;
using System.Text.Json.Nodes;
using TacotronRecovery.Core.Checkpoints;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Contract;
using TacotronRecovery.Core.Health;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Recovery;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Host.Verbs;

/// <summary>
/// The <c>supervise --command</c> mode: runs an external training command (e.g. <c>torchrun --nproc_per_node 2 train.py
/// … -c {checkpoint}</c>, instrumented with module/python/tacotron_recovery.py) as the leader of its own process group
/// and recovers it with the same <see cref="RecoveryController"/> and events as our engine (<see cref="ExternalSupervision"/>).
/// It tails the adapter's metrics.jsonl and events.jsonl, scores attention/*.json into alignment.jsonl, writes knobs.json
/// when the controller's knobs change, keeps checkpoints/external.json, and in the foreground writes the envelope lines
/// our engine would (the command's own output goes to logs/). A Rollback stops the group (stop.request, then SIGTERM and
/// SIGKILL after the grace) and restarts the command from the last Good checkpoint with the safe-mode knobs already in
/// knobs.json; a death (non-zero exit without a stop request) goes to <see cref="RecoveryController.OnEngineRestart"/>.
/// Contract: docs/scale-out-supervisor.md.
/// </summary>
internal sealed class ExternalSupervisor
{
    /// <summary>Default seconds a command is given to stop by itself (stop.request) before SIGTERM.</summary>
    public const int DefaultGraceSeconds = 30;

    /// <summary>Seconds between SIGTERM and SIGKILL of the group.</summary>
    public static readonly TimeSpan TermGrace = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    /// <summary>What the verb was asked for.</summary>
    /// <param name="Command">The argv, program first, with {checkpoint} where the checkpoint path goes.</param>
    /// <param name="Resume">Start from the last Good checkpoint of the ledger.</param>
    /// <param name="Checkpoint">Start from this file.</param>
    /// <param name="Emergency">Invoke-EmergencyRecovery: safe mode one level up (and attention critical mode) before the start, from the last Good checkpoint.</param>
    /// <param name="MaxSteps">Stop the command (stop.request) once it reports this step; the run then ends Completed.</param>
    /// <param name="Grace">How long a stop request is given before the group gets SIGTERM.</param>
    /// <param name="WorkingDirectory">Where the command runs; relative checkpoint paths of its events resolve there too.</param>
    public sealed record Options(IReadOnlyList<string> Command, bool Resume, string? Checkpoint, string? Emergency, int? MaxSteps, TimeSpan Grace, string WorkingDirectory);

    private enum Action { None, Rollback, Exhausted, MaxSteps, UserStop }

    private readonly TacotronConfig _config;
    private readonly RunDirectory _run;
    private readonly Options _o;
    private readonly bool _detached;
    private readonly AlertBridge _alerts;
    private readonly CancellationToken _stopping;
    private readonly ExternalSupervision _sup;
    private KnobsFile? _knobs;
    private Action _action;
    private RecoveryDecision? _rollback;
    private string? _lastWarning;
    private readonly DateTimeOffset _sessionStarted = DateTimeOffset.UtcNow;

    public ExternalSupervisor(TacotronConfig config, RunDirectory run, Options options, bool detached, AlertBridge alerts, CancellationToken stopping)
    {
        _config = config;
        _run = run;
        _o = options;
        _detached = detached;
        _alerts = alerts;
        _stopping = stopping;
        RecoveryState? state = null;
        try { state = RecoveryStateStore.TryRead(run.RecoveryStateFile); }
        catch (RunDataException e) { Warn(e.Message); }
        ExternalCheckpointLedger ledger;
        try { ledger = ExternalCheckpointLedger.Load(run.ExternalLedgerFile); }
        catch (RunDataException e) { Warn(e.Message); ledger = new ExternalCheckpointLedger(); }
        _sup = new ExternalSupervision(config, run.Name, state, ledger);
    }

    /// <summary>Supervises the command until it completes, stops, or recovery is exhausted; returns the exit code.</summary>
    public int Run()
    {
        ExternalCommand.Save(_run, _o.Command);
        ConfigWriter.WriteRedacted(_config with { Name = _run.Name }, _run.ConfigFile);
        Directory.CreateDirectory(_run.AttentionDir);
        // An operator start: earlier deaths no longer count, and checkpoints of an earlier session that were never
        // confirmed stay unconfirmed.
        _sup.Controller.ResetRestartBudget();
        _sup.OnRestart("the command ended before enough healthy steps followed");
        string? checkpoint = _o.Checkpoint is null ? null : Path.GetFullPath(_o.Checkpoint, _o.WorkingDirectory);
        if (checkpoint is null && (_o.Resume || _o.Emergency is not null)) checkpoint = SelectTarget(RollbackTarget.LastGood)?.Path;
        if (_o.Emergency is not null)
        {
            int at = checkpoint is null ? 0 : _sup.Ledger.Entries.LastOrDefault(e => e.Path == checkpoint)?.Step ?? 0;
            var lastDiagonality = JsonLines.ReadLast<AlignmentMetrics>(_run.AlignmentFile, 1).LastOrDefault()?.Diagonality;
            Write(_sup.Report(_sup.Controller.OnEmergency(at, _o.Emergency, lastDiagonality)));
        }
        SaveState();
        WriteKnobs();
        if (_sup.Controller.IsExhausted)
        {
            string message = $"Recovery of this run is exhausted: {_sup.Controller.Diagnosis} Invoke-EmergencyRecovery -Run {_run.Name} tries again one safe-mode level up.";
            RunStateStore.Record(_run, RunStatus.Failed, message, ExitCodes.Exhausted);
            Console.Error.WriteLine(message);
            return ExitCodes.Exhausted;
        }
        if (checkpoint is not null && !ExternalCommand.TakesCheckpoint(_o.Command))
            Warn($"The command has no {ExternalCommand.CheckpointPlaceholder} argument: it cannot be started from {checkpoint} (nor rolled back).");

        while (true)
        {
            if (_run.StopRequested || _stopping.IsCancellationRequested)
                return SuperviseVerb.Stopped(_run, "Stop requested while the command was being restarted; not restarted.");
            _action = Action.None;
            _rollback = null;
            var death = RunOnce(ExternalCommand.Substitute(_o.Command, checkpoint), checkpoint);
            int code = death.ExitCode;

            switch (_action)
            {
                case Action.Rollback:
                    checkpoint = CompleteRollback();
                    continue;
                case Action.Exhausted:
                {
                    string message = $"Recovery exhausted at step {_sup.LastStep}: {_sup.Controller.Diagnosis}";
                    Event(EventKinds.Exhausted, EventCodes.RecoveryExhausted, EventSeverity.Critical, message, null);
                    RunStateStore.Record(_run, RunStatus.Failed, message, ExitCodes.Exhausted);
                    _run.ClearStopRequest();
                    Console.Error.WriteLine(message);
                    return ExitCodes.Exhausted;
                }
            }
            if (code == ExitCodes.Ok)
            {
                Write(_sup.OnCleanExit());
                SaveLedger();
                bool requested = _action == Action.UserStop || _stopping.IsCancellationRequested || (_run.StopRequested && _action != Action.MaxSteps);
                var (status, eventCode, kind, message) = requested
                    ? (RunStatus.Stopped, EventCodes.TrainingStopped, EventKinds.Stopped, $"Stopped on request at step {_sup.LastStep}.")
                    : (RunStatus.Completed, EventCodes.TrainingCompleted, EventKinds.Completed,
                        _action == Action.MaxSteps ? $"Completed at step {_sup.LastStep} (max steps {_o.MaxSteps})." : $"The command completed at step {_sup.LastStep}.");
                Event(kind, eventCode, EventSeverity.Info, message, null);
                RunStateStore.Record(_run, status, message, ExitCodes.Ok);
                _run.ClearStopRequest();
                return ExitCodes.Ok;
            }
            string reason = $"exit code {code}{ExitCodes.DescribeSignal(code)}";
            if (_action == Action.UserStop || _run.StopRequested || _stopping.IsCancellationRequested)
                return SuperviseVerb.Stopped(_run, $"The command ended ({reason}) after the stop request.", death);

            _sup.OnRestart("the command died");
            SaveLedger();
            var decision = _sup.Controller.OnEngineRestart(reason, Math.Max(_sup.LastStep, RunSummary.LastStep(_run))).Single();
            SaveState();
            var e = SuperviseVerb.ToEvent(decision, _run, death);
            SuperviseVerb.AppendEvent(_run, e, echo: !_detached);
            _alerts.OnEvent(e);
            if (SuperviseVerb.AfterDeath(_run, decision, e, code) is int end) return end;
            var target = SelectTarget(RollbackTarget.LastGood);
            checkpoint = target?.Path;
            if (target is not null) _sup.Controller.OnRollbackCompleted(target.Step);
            SaveState();
            WriteKnobs();
        }
    }

    /// <summary>After the group stopped for a rollback: the restart target (already checked to exist), knobs, and the RollbackCompleted event.</summary>
    private string? CompleteRollback()
    {
        _sup.OnRestart("the command was stopped for a rollback");
        var target = SelectTarget(_rollback?.Target ?? RollbackTarget.LastGood);
        _run.ClearStopRequest();
        if (target is null)
        {
            // Checked before stopping; the file vanished or changed meanwhile.
            Event(EventKinds.Training, EventCodes.RollbackImpossible, EventSeverity.Critical, "No verified good checkpoint to roll back to; the command restarts from scratch.", null);
            SaveState();
            WriteKnobs();
            return null;
        }
        _sup.Controller.OnRollbackCompleted(target.Step);
        SaveState();
        WriteKnobs();
        Event(EventKinds.Training, EventCodes.RollbackCompleted, EventSeverity.Warning,
            $"Restarting the command from {Path.GetFileName(target.Path)} (step {target.Step}) at safe-mode level {_sup.Controller.SafeModeLevel}.",
            new JsonObject { ["checkpoint"] = target.Path, ["restored_step"] = target.Step, ["target"] = (_rollback?.Target ?? RollbackTarget.LastGood).ToString() });
        RunStateStore.Record(_run, RunStatus.Recovering, $"Rolled back to step {target.Step}.", null);
        return target.Path;
    }

    /// <summary>The checkpoint a rollback or restart continues from (LastWellAligned falls back to LastGood); rejected newer ones become events.</summary>
    private ExternalCheckpoint? SelectTarget(RollbackTarget target)
    {
        ExternalCheckpoint? chosen = null;
        IReadOnlyList<string> rejected = [];
        if (target == RollbackTarget.LastWellAligned) chosen = _sup.Ledger.SelectLastGood(out rejected, _config.Recovery.ExitDiagonality);
        chosen ??= _sup.Ledger.SelectLastGood(out rejected);
        foreach (var r in rejected) Event(EventKinds.Checkpoint, EventCodes.CheckpointRejected, EventSeverity.Warning, r, null);
        return chosen;
    }

    /// <summary>Runs the command once, following its records, until it exits (after a stop of ours, if an action needed one).</summary>
    private SuperviseVerb.EngineDeath RunOnce(IReadOnlyList<string> argv, string? checkpoint)
    {
        int n = SuperviseVerb.NextLogNumber(_run.LogsDir);
        var stderrLog = Path.Combine(_run.LogsDir, RunFiles.EngineLog(n, "stderr"));
        var psi = ProcessGroup.StartInfo(argv, out bool ownGroup);
        psi.RedirectStandardOutput = psi.RedirectStandardError = psi.RedirectStandardInput = true;
        psi.Environment[ExternalCommand.RunDirectoryVariable] = _run.Path;
        psi.WorkingDirectory = _o.WorkingDirectory;

        using var stderr = new StderrCapture(stderrLog, echo: !_detached);
        using var outLog = SuperviseVerb.OpenLog(Path.Combine(_run.LogsDir, RunFiles.EngineLog(n, "stdout")));
        using var metrics = new JsonLinesCursor<StepMetrics>(_run.MetricsFile, Length(_run.MetricsFile));
        using var events = new JsonLinesCursor<TrainingEvent>(_run.EventsFile, Length(_run.EventsFile));
        using var child = new Process { StartInfo = psi };
        child.ErrorDataReceived += stderr.OnLine;
        child.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (outLog) outLog.WriteLine(e.Data); };
        try
        {
            if (!child.Start()) throw new InvalidOperationException("The command did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            // Not found or not executable: a death like any other (it escalates and exhausts), with the reason on stderr.
            stderr.Add($"{argv[0]}: {e.Message}");
            Console.Error.WriteLine($"error: the command '{argv[0]}' could not be started: {e.Message}");
            return new SuperviseVerb.EngineDeath(127, 0, stderr.Tail(), stderrLog);
        }
        child.StandardInput.Close();
        child.BeginErrorReadLine();
        child.BeginOutputReadLine();
        SuperviseVerb.PruneLogs(_run.LogsDir, n);
        int leader = child.Id;
        SetState(leader, "training (external command)");
        Event(EventKinds.Started, EventCodes.TrainingStarted, EventSeverity.Info,
            $"Command started (pid {leader}){(checkpoint is null ? "" : $" from {Path.GetFileName(checkpoint)}")}: {string.Join(' ', argv)}",
            new JsonObject { ["argv"] = new JsonArray(argv.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()), ["checkpoint"] = checkpoint, ["pid"] = leader, ["process_group"] = ownGroup ? leader : null });

        var pending = new Pending();
        DateTime? stopSince = null;
        bool termSent = false, killSent = false;
        var lastBeat = DateTime.UtcNow;
        while (!child.HasExited)
        {
            Pump(pending, metrics, events, final: false);
            if (_action == Action.None && (_run.StopRequested || _stopping.IsCancellationRequested))
            {
                _action = Action.UserStop;
                TryRequestStop();
            }
            if (_action != Action.None) stopSince ??= DateTime.UtcNow;
            if (stopSince is DateTime since)
            {
                var waited = DateTime.UtcNow - since;
                if (!termSent && waited >= _o.Grace)
                {
                    termSent = true;
                    Log($"The command did not stop within {_o.Grace.TotalSeconds:0} s of the stop request: SIGTERM to its process group {leader}.");
                    if (ownGroup) ProcessGroup.Signal(leader, ProcessGroup.SigTerm); else KillTree(child);
                }
                if (termSent && !killSent && waited >= _o.Grace + TermGrace)
                {
                    killSent = true;
                    Log($"The command did not end {TermGrace.TotalSeconds:0} s after SIGTERM: SIGKILL to its process group {leader}.");
                    if (ownGroup) ProcessGroup.Signal(leader, ProcessGroup.SigKill); else KillTree(child);
                }
            }
            if (DateTime.UtcNow - lastBeat >= TimeSpan.FromSeconds(2))
            {
                lastBeat = DateTime.UtcNow;
                SetState(leader, null);
                SaveState();
            }
            Thread.Sleep(Poll);
        }
        // Workers that outlived their launcher (torchrun killed, a worker hung) must not train on unsupervised; they also
        // hold the command's stdout and stderr open.
        if (ownGroup && ProcessGroup.Members(leader).Count > 0)
        {
            Log($"Processes of the command's group {leader} outlived it: SIGKILL.");
            ProcessGroup.Signal(leader, ProcessGroup.SigKill);
        }
        // Drains the redirected streams; bounded, since a descendant that left the group may keep them open.
        if (!child.WaitForExit(TimeSpan.FromSeconds(10))) Log("The command's output streams stayed open after it exited (a descendant outside its process group?); not waiting for them.");
        Pump(pending, metrics, events, final: true);
        SaveState();
        return new SuperviseVerb.EngineDeath(child.ExitCode, leader, stderr.Tail(), stderrLog);
    }

    /// <summary>Records read but not yet due: an event or attention file is taken once the step it belongs to has been (so a checkpoint is judged on the steps before it).</summary>
    private sealed class Pending
    {
        public readonly List<(int Step, TrainingEvent Event)> Events = [];
        public readonly HashSet<string> SeenAttention = new(StringComparer.Ordinal);
    }

    /// <summary>Reads what the adapter appended and feeds it, in step order, to the supervision; acts on the result.</summary>
    private void Pump(Pending pending, JsonLinesCursor<StepMetrics> metricsCursor, JsonLinesCursor<TrainingEvent> eventsCursor, bool final)
    {
        var steps = metricsCursor.ReadAvailable().ToList();
        foreach (var e in eventsCursor.ReadAvailable())
            if (e.Code is EventCodes.CheckpointSaved or EventCodes.SkipStep) pending.Events.Add((e.Step, e));
        var attention = new List<(int Step, string Path)>();
        if (Directory.Exists(_run.AttentionDir))
            foreach (var f in Directory.EnumerateFiles(_run.AttentionDir, "step-*.json"))
                if (AttentionFile.StepOf(f) is int s && !pending.SeenAttention.Contains(f)) attention.Add((s, f));
        attention.Sort((a, b) => a.Step.CompareTo(b.Step));
        int? lastStep = steps.Count > 0 ? steps[^1].Step : null;

        void Due(Func<int, bool> due)
        {
            foreach (var (step, e) in pending.Events.Where(x => due(x.Step)).ToList())
            {
                pending.Events.Remove((step, e));
                OnAdapterEvent(e);
            }
            foreach (var a in attention.Where(x => due(x.Step)).ToList())
            {
                attention.Remove(a);
                pending.SeenAttention.Add(a.Path);
                OnAttention(a.Path);
            }
        }

        foreach (var m in steps)
        {
            Due(s => s < m.Step);
            OnStep(m);
            Due(s => s <= m.Step);
        }
        if (final) Due(_ => true);
        else if (lastStep is null) Due(s => s <= _sup.LastStep);
        if (_sup.TakeLedgerChange()) SaveLedger();
        WriteKnobs();
    }

    private void OnStep(StepMetrics m)
    {
        var record = m.Run is null ? m with { Run = _run.Name } : m;
        if (!_detached) EngineEnvelope.Write(Console.Out, EngineEnvelope.Step, record);
        _alerts.OnStep(record);
        if (_action != Action.None) return; // stopping: the records still show, the controller has decided
        var update = _sup.OnStep(record, scriptLearningRate: _knobs?.LearningRate is null);
        Act(update);
        if (_action == Action.None && _o.MaxSteps is int max && m.Step >= max)
        {
            _action = Action.MaxSteps;
            Log($"Step {m.Step} reached the step limit {max}: asking the command to stop.");
            TryRequestStop();
        }
    }

    private void OnAttention(string path)
    {
        AlignmentMetrics a;
        try { a = AttentionFile.Read(path, _run.Name, DateTimeOffset.UtcNow); }
        catch (Exception e) when (e is RunDataException or IOException or UnauthorizedAccessException)
        {
            Warn(e.Message);
            TryDelete(path);
            return;
        }
        using (var w = new JsonLinesWriter<AlignmentMetrics>(_run.AlignmentFile)) w.Append(a);
        TryDelete(path);
        if (!_detached) EngineEnvelope.Write(Console.Out, EngineEnvelope.Alignment, a);
        _alerts.OnAlignment(a);
        if (_action != Action.None) return;
        Act(_sup.OnAlignment(a));
    }

    private void OnAdapterEvent(TrainingEvent e)
    {
        if (!_detached) EngineEnvelope.Write(Console.Out, EngineEnvelope.Event, e);
        _alerts.OnEvent(e);
        if (e.Code != EventCodes.CheckpointSaved) return;
        string? raw = e.Data?["path"]?.GetValue<string>();
        if (string.IsNullOrEmpty(raw))
        {
            Warn($"A CheckpointSaved event at step {e.Step} has no data.path; ignored.");
            return;
        }
        string path = Path.GetFullPath(raw, _o.WorkingDirectory);
        int step = e.Data?["step"]?.GetValue<int>() ?? e.Step;
        string sha = "";
        try { if (File.Exists(path)) sha = CheckpointEntry.Sha256Of(path); }
        catch (IOException x) { Warn($"{path}: {x.Message}"); }
        string? unhealthy = _action switch
        {
            Action.Rollback => "Saved while the command was stopping for a rollback.",
            Action.Exhausted => "Saved while the command was stopping after recovery was exhausted.",
            _ => null,
        };
        var entry = _sup.OnCheckpointSaved(path, step, sha, unhealthy);
        Log($"checkpoint {path} (step {step}): {(entry.Good is null ? "healthy at save, Good once confirmed" : "not Good: " + entry.Note)}");
    }

    /// <summary>Writes the update's events and acts on Rollback and Exhausted.</summary>
    private void Act(SupervisionUpdate update)
    {
        Write(update.Events);
        if (update.Exhausted)
        {
            _action = Action.Exhausted;
            SaveState();
            TryRequestStop();
            return;
        }
        if (update.Rollback is { } rollback)
        {
            SaveState();
            if (!ExternalCommand.TakesCheckpoint(_o.Command))
            {
                Event(EventKinds.Training, EventCodes.RollbackImpossible, EventSeverity.Critical,
                    $"The command has no {ExternalCommand.CheckpointPlaceholder} argument, so it cannot be restarted from a checkpoint; it continues with the safe-mode knobs.", null);
                return;
            }
            var target = rollback.Target == RollbackTarget.LastWellAligned
                ? _sup.Ledger.SelectLastGood(out _, _config.Recovery.ExitDiagonality) ?? _sup.Ledger.SelectLastGood(out _)
                : _sup.Ledger.SelectLastGood(out _);
            if (target is null)
            {
                Event(EventKinds.Training, EventCodes.RollbackImpossible, EventSeverity.Critical,
                    "No verified good checkpoint to roll back to; the command continues with the safe-mode knobs.", null);
                return;
            }
            _action = Action.Rollback;
            _rollback = rollback;
            Log($"Rollback: stopping the command (stop.request, then its process group after {_o.Grace.TotalSeconds:0} s) to restart it from {target.Path}.");
            TryRequestStop();
        }
        else if (update.Decisions.Count > 0)
        {
            SaveState();
        }
    }

    /// <summary>knobs.json, when the controller's knobs differ from what it says (written before any restart, read by every rank).</summary>
    private void WriteKnobs()
    {
        var now = _sup.Knobs;
        _knobs ??= KnobsFile.TryRead(_run.KnobsFile);
        if (now.SameKnobs(_knobs)) return;
        _knobs = KnobsFile.Write(_run.KnobsFile, now);
        Log($"knobs.json version {_knobs.Version}: {_knobs.Mode}, level {_knobs.SafeModeLevel}, learning rate {(_knobs.LearningRate is double lr ? lr.ToString("G4", System.Globalization.CultureInfo.InvariantCulture) : "the script's")}");
    }

    private void SaveState() => RecoveryStateStore.Write(_run.RecoveryStateFile, _sup.Controller.State);

    private void SaveLedger()
    {
        _sup.TakeLedgerChange();
        _sup.Ledger.Save(_run.ExternalLedgerFile);
    }

    /// <summary>run.json while the command runs: Running, with the command's pid (the leader of its group).</summary>
    private void SetState(int pid, string? message)
    {
        RunStateStore.Write(_run.StateFile, new RunState
        {
            Name = _run.Name, Status = RunStatus.Running, Pid = pid, Host = Environment.MachineName, Started = _sessionStarted,
            Updated = DateTimeOffset.UtcNow, Step = _sup.LastStep, Message = message ?? "training (external command)", Device = "external",
        });
    }

    private void Write(IEnumerable<TrainingEvent> events)
    {
        foreach (var e in events)
        {
            SuperviseVerb.AppendEvent(_run, e, echo: !_detached);
            _alerts.OnEvent(e);
        }
    }

    private void Event(string kind, string code, EventSeverity severity, string message, JsonObject? data) =>
        Write([new TrainingEvent { Run = _run.Name, Step = _sup.LastStep, Time = DateTimeOffset.UtcNow, Kind = kind, Code = code, Severity = severity, Message = message, Data = data }]);

    private void Log(string line)
    {
        try { File.AppendAllText(_run.LogFile, $"{DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss} [supervisor] {line}{Environment.NewLine}"); }
        catch (IOException) { }
    }

    private void Warn(string message)
    {
        Console.Error.WriteLine("warning: " + message);
        if (message != _lastWarning) Log("warning: " + message);
        _lastWarning = message;
    }

    private void TryRequestStop()
    {
        try { _run.RequestStop(); } catch (IOException) { }
    }

    private static void KillTree(Process p)
    {
        try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
    }

    private static long Length(string file) => File.Exists(file) ? new FileInfo(file).Length : 0;

    private static void TryDelete(string file)
    {
        try { File.Delete(file); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
