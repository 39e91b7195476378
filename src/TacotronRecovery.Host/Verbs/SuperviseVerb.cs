using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using TacotronRecovery.Core.Checkpoints;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Recovery;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Core.Contract;

namespace TacotronRecovery.Host.Verbs;

/// <summary>
/// <c>supervise</c>: starts <c>train</c> in a child process and, when it dies (native abort, out-of-memory kill,
/// killed), asks the run's <see cref="RecoveryController"/> what to do and does it: <c>Restart</c> from the newest good
/// checkpoint one safe-mode level higher, or <c>Exhausted</c> (stop, mark the run Failed, exit 3). The controller's state
/// (restart count, level, budgets) lives in the run's recovery-state.json, so deaths escalate even when no engine lives
/// long enough to save a checkpoint. Each decision is one event and one alert, with the dead engine's exit code and the
/// tail of its stderr. A stop request (stop.request, SIGINT, SIGTERM) is final: no engine is restarted after it.
/// With --detach the supervisor leaves the caller's session, terminal and pipes (see <see cref="Detach"/>).
/// With --command (a JSON array: an external training command such as torchrun with the tacotron_recovery adapter) it
/// supervises that command instead, with the same controller, events and exit codes (<see cref="ExternalSupervisor"/>).
/// </summary>
public static class SuperviseVerb
{
    /// <summary>Lines of a dead engine's stderr kept for the event and the alert.</summary>
    public const int StderrTailLines = 20;

    /// <summary>Engine log files kept per stream in logs/ (older ones are deleted).</summary>
    public const int KeepEngineLogs = 10;

    /// <summary>Runs the verb; returns the final exit code.</summary>
    public static int Run(Arguments args)
    {
        var config = RunSession.LoadConfig(args, out var configPath);
        var run = RunSession.Locate(args, config, configPath);
        bool detached = args.Has("detach");
        IReadOnlyList<string>? command = null;
        if (args.Get("command") is { } json)
        {
            try { command = ExternalCommand.FromJson(json); }
            catch (ArgumentException e) { throw new UsageException($"--command: {e.Message}"); }
        }
        var external = command is null ? null : new ExternalSupervisor.Options(command, args.Has("resume"), args.Get("checkpoint"), args.Get("emergency"),
            args.Int("max-steps"), TimeSpan.FromSeconds(args.Int("grace-seconds") ?? ExternalSupervisor.DefaultGraceSeconds),
            Path.GetFullPath(args.Get("working-directory") ?? Environment.CurrentDirectory));
        args.Has("resume"); args.Get("checkpoint"); args.Has("quiet"); args.Get("emergency");
        args.RejectUnknown();
        run.Create();
        if (detached) Detach.Apply(run.SupervisorLog);
        Directory.CreateDirectory(run.LogsDir);

        using var supervisorLock = RunLock.Acquire(run.SupervisorLockFile);
        // A request left by an earlier session (its engine died before it stopped) must not stop this one at once.
        run.ClearStopRequest();
        var childArgs = args.Raw().Where(a => a != "--detach").ToList();
        if (!childArgs.Contains("--run")) { childArgs.Add("--run"); childArgs.Add(run.Path); }
        childArgs.Add("--supervised");

        using var stopping = new CancellationTokenSource();
        void OnSignal(PosixSignalContext c) { c.Cancel = true; stopping.Cancel(); TryRequestStop(run); }
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);

        var alerts = new AlertBridge(config, run, warning => Console.Error.WriteLine("warning: " + warning));
        try
        {
            if (external is not null) return new ExternalSupervisor(config, run, external, detached, alerts, stopping.Token).Run();
            bool restarted = false;
            while (true)
            {
                if (run.StopRequested || stopping.IsCancellationRequested)
                    return Stopped(run, "Stop requested while the engine was being restarted; not restarted.");
                var a = new List<string>(childArgs);
                if (restarted)
                {
                    RemoveOption(a, "--checkpoint");
                    RemoveOption(a, "--emergency");
                    if (!a.Contains("--resume")) a.Add("--resume");
                    a.Add("--restarted");
                }
                var death = RunEngine(a, run, detached);
                int code = death.ExitCode;
                if (ExitCodes.IsDeliberate(code))
                {
                    if (code == ExitCodes.Ok) run.ClearStopRequest(); // stopped or completed: the request has been served
                    return code;
                }
                string reason = $"exit code {code}{ExitCodes.DescribeSignal(code)}";
                if (run.StopRequested || stopping.IsCancellationRequested)
                    return Stopped(run, $"The engine died ({reason}) after the stop request, before its stop checkpoint; not restarted.", death);

                var decision = Decide(config, run, reason);
                var e = ToEvent(decision, run, death);
                AppendEvent(run, e, echo: !detached);
                alerts.OnEvent(e);
                if (AfterDeath(run, decision, e, code) is int end) return end;
                restarted = true;
            }
        }
        finally
        {
            alerts.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>
    /// Records what the controller decided after a death (engine or external command): null for Restart (the run is
    /// Recovering; the caller restarts), else the final exit code — Exhausted, or the death's own code when recovery is
    /// disabled — with the run marked Failed.
    /// </summary>
    internal static int? AfterDeath(RunDirectory run, RecoveryDecision decision, TrainingEvent e, int code)
    {
        if (decision.Action == RecoveryAction.Restart)
        {
            RunStateStore.Record(run, RunStatus.Recovering, e.Message, null);
            return null;
        }
        int end = decision.Action == RecoveryAction.Exhausted ? ExitCodes.Exhausted : code;
        RunStateStore.Record(run, RunStatus.Failed, e.Message, end);
        Console.Error.WriteLine(e.Message);
        return end;
    }

    /// <summary>How one engine ended: exit code, pid, the tail of its stderr and where the whole of it is.</summary>
    internal sealed record EngineDeath(int ExitCode, int Pid, IReadOnlyList<string> StderrTail, string StderrLog);

    /// <summary>
    /// The controller's answer to a death, from the run's persisted recovery state (or the newest checkpoint's when the
    /// engine never wrote one), written back before the next engine starts.
    /// </summary>
    private static RecoveryDecision Decide(Core.Config.TacotronConfig config, RunDirectory run, string reason)
    {
        RecoveryState? state;
        try { state = RecoveryStateStore.TryRead(run.RecoveryStateFile); }
        catch (RunDataException e) { Console.Error.WriteLine("warning: " + e.Message); state = null; }
        var controller = new RecoveryController(config.Recovery, config.Training, config.GuidedAttention, state);
        var decisions = controller.OnEngineRestart(reason, RunSummary.LastStep(run));
        RecoveryStateStore.Write(run.RecoveryStateFile, controller.State);
        return decisions.Single();
    }

    internal static TrainingEvent ToEvent(RecoveryDecision d, RunDirectory run, EngineDeath death)
    {
        var e = d.ToEvent(run.Name, DateTimeOffset.UtcNow);
        var data = e.Data ?? new JsonObject();
        AddDeath(data, death);
        data["engine_pid"] = death.Pid;
        string message = d.Reason;
        if (d.Action == RecoveryAction.Restart)
        {
            var target = CheckpointSelector.TryResumeTarget(run);
            data["resume_checkpoint"] = target?.Path;
            data["resume_step"] = target?.Step;
            message += target is not { } t ? $" No good checkpoint verifies: the {(run.IsExternal ? "command" : "engine")} starts from scratch."
                : $" Resuming from {Path.GetFileName(t.Path)} (step {t.Step}).";
        }
        return e with { Message = message, Data = data };
    }

    /// <summary>The dead engine's exit code, stderr log and stderr tail, in an event's data.</summary>
    internal static void AddDeath(JsonObject data, EngineDeath death)
    {
        data["exit_code"] = death.ExitCode;
        data["stderr_log"] = death.StderrLog;
        data["stderr_tail"] = new JsonArray(death.StderrTail.Select(l => (JsonNode?)JsonValue.Create(l)).ToArray());
    }

    /// <summary>The run ends stopped (on request) although its engine did not stop by itself; says which checkpoint a resume uses.</summary>
    internal static int Stopped(RunDirectory run, string why, EngineDeath? death = null)
    {
        var target = CheckpointSelector.TryResumeTarget(run);
        string message = why + (target is not { } t ? " No good checkpoint verifies." : $" A resume continues from {Path.GetFileName(t.Path)} (step {t.Step}).");
        var data = new JsonObject();
        if (death is not null) AddDeath(data, death);
        AppendEvent(run, new TrainingEvent
        {
            Run = run.Name, Step = RunSummary.LastStep(run), Time = DateTimeOffset.UtcNow, Kind = EventKinds.Stopped, Code = EventCodes.TrainingStopped,
            Severity = death is null ? EventSeverity.Info : EventSeverity.Warning, Message = message, Data = data,
        }, echo: true);
        RunStateStore.Record(run, RunStatus.Stopped, message, death?.ExitCode ?? ExitCodes.Ok);
        run.ClearStopRequest();
        return ExitCodes.Ok;
    }

    /// <summary>
    /// Runs one engine to its end. Its stderr goes to logs/engine-&lt;n&gt;.stderr.log (and, in the foreground, on to ours);
    /// its stdout is passed through in the foreground (the cmdlet reads the JSON lines) and goes to
    /// logs/engine-&lt;n&gt;.stdout.log when detached.
    /// </summary>
    private static EngineDeath RunEngine(IEnumerable<string> args, RunDirectory run, bool detached)
    {
        int n = NextLogNumber(run.LogsDir);
        var stderrLog = Path.Combine(run.LogsDir, RunFiles.EngineLog(n, "stderr"));
        var psi = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = detached };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            psi.ArgumentList.Add(typeof(SuperviseVerb).Assembly.Location);
        psi.ArgumentList.Add("train");
        foreach (var a in args) psi.ArgumentList.Add(a);

        using var stderr = new StderrCapture(stderrLog, echo: !detached);
        using var outLog = detached ? OpenLog(Path.Combine(run.LogsDir, RunFiles.EngineLog(n, "stdout"))) : null;
        using var child = new Process { StartInfo = psi };
        child.ErrorDataReceived += stderr.OnLine;
        if (outLog is not null) child.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (outLog) outLog.WriteLine(e.Data); };
        if (!child.Start()) throw new InvalidOperationException("The engine process did not start.");
        child.BeginErrorReadLine();
        if (outLog is not null) child.BeginOutputReadLine();
        PruneLogs(run.LogsDir, n);
        child.WaitForExit(); // also waits until the redirected streams are drained
        return new EngineDeath(child.ExitCode, child.Id, stderr.Tail(), stderrLog);
    }

    /// <summary>A child's log file (logs/engine-&lt;n&gt;.*.log): created, flushed line by line, readable while written.</summary>
    internal static StreamWriter OpenLog(string path) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };

    internal static int NextLogNumber(string dir) =>
        Directory.EnumerateFiles(dir, RunFiles.EngineLogPattern).Select(f => LogNumber(f) ?? 0).DefaultIfEmpty(0).Max() + 1;

    internal static void PruneLogs(string dir, int newest)
    {
        foreach (var f in Directory.EnumerateFiles(dir, RunFiles.EngineLogPattern).ToList())
        {
            if (LogNumber(f) is int k && k <= newest - KeepEngineLogs)
            {
                try { File.Delete(f); } catch (IOException) { }
            }
        }
    }

    /// <summary>n of logs/engine-&lt;n&gt;.*.log, or null for another name.</summary>
    private static int? LogNumber(string file)
    {
        var name = Path.GetFileName(file);
        int dash = name.IndexOf('-'), dot = name.IndexOf('.');
        return dot > dash && int.TryParse(name.AsSpan(dash + 1, dot - dash - 1), out int k) ? k : null;
    }

    private static void RemoveOption(List<string> args, string name)
    {
        int i = args.IndexOf(name);
        if (i >= 0) args.RemoveRange(i, Math.Min(2, args.Count - i));
    }

    private static void TryRequestStop(RunDirectory run)
    {
        try { run.RequestStop(); } catch (IOException) { }
    }

    internal static void AppendEvent(RunDirectory run, TrainingEvent e, bool echo)
    {
        using (var w = new JsonLinesWriter<TrainingEvent>(run.EventsFile)) w.Append(e);
        if (echo) EngineEnvelope.Write(Console.Out, EngineEnvelope.Event, e);
        File.AppendAllText(run.LogFile, $"{DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss} [{e.Severity}] {e.Code}: {e.Message}{Environment.NewLine}");
    }
}

/// <summary>
/// A child's stderr (our engine's or an external command's): every line to its log file and, in the foreground, on to
/// our stderr; the last <see cref="SuperviseVerb.StderrTailLines"/> kept for the event that reports its death.
/// </summary>
internal sealed class StderrCapture : IDisposable
{
    private readonly StreamWriter _log;
    private readonly Queue<string> _tail = new();
    private readonly bool _echo;

    public StderrCapture(string path, bool echo)
    {
        _log = SuperviseVerb.OpenLog(path);
        _echo = echo;
    }

    /// <summary>The handler for <see cref="Process.ErrorDataReceived"/>.</summary>
    public void OnLine(object? sender, DataReceivedEventArgs e)
    {
        if (e.Data is null) return;
        Add(e.Data);
        if (_echo) Console.Error.WriteLine(e.Data);
    }

    /// <summary>Records one line in the log and the tail.</summary>
    public void Add(string line)
    {
        lock (_tail)
        {
            _log.WriteLine(line);
            _tail.Enqueue(line);
            while (_tail.Count > SuperviseVerb.StderrTailLines) _tail.Dequeue();
        }
    }

    /// <summary>The last lines, oldest first.</summary>
    public string[] Tail()
    {
        lock (_tail) return _tail.ToArray();
    }

    public void Dispose() => _log.Dispose();
}
