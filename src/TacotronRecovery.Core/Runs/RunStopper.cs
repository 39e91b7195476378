using TacotronRecovery.Core.Checkpoints;
using TacotronRecovery.Core.Contract;
using TacotronRecovery.Core.Metrics;

namespace TacotronRecovery.Core.Runs;

/// <summary>
/// Stopping a run from outside (Stop-TacotronTraining, Invoke-EmergencyRecovery): the durable stop request, the wait
/// for the supervisor and the engine to exit, and the kill of a run that does not stop (recorded as Killed).
/// </summary>
public static class RunStopper
{
    /// <summary>True while an engine writes the run or a process of the run (supervisor, engine) is alive.</summary>
    public static bool IsRunning(RunDirectory run) => RunSummary.IsEngineRunning(run) || RunProcesses.Find(run).AnyAlive;

    /// <summary>
    /// Writes the stop request (in force until the run has stopped: the supervisor restarts no engine while it exists)
    /// and waits up to <paramref name="timeout"/> for the run to stop: until its locks are released and every process
    /// that held one has exited (a supervisor releases its lock a moment before its process ends).
    /// </summary>
    /// <returns>The processes of the run still alive at the end (none when it stopped).</returns>
    public static RunProcesses RequestAndWait(RunDirectory run, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        run.RequestStop();
        var deadline = DateTime.UtcNow + timeout;
        var supervisor = new LockHolderWatch();
        var engine = new LockHolderWatch();
        RunProcesses Look()
        {
            var found = RunProcesses.Find(run);
            return new RunProcesses(supervisor.Live(found.Supervisor), engine.Live(found.Engine));
        }
        var processes = Look();
        while (DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested && (processes.AnyAlive || RunSummary.IsEngineRunning(run)))
        {
            Thread.Sleep(250);
            processes = Look();
        }
        return processes;
    }

    /// <summary>
    /// Kills the run's supervisor, then its engine (<see cref="RunProcesses.Kill"/>); once they are gone, records the
    /// run as Killed (run.json, exit code 137, a TrainingKilled event naming the checkpoint a resume continues from) and
    /// clears the stop request so that a later start does not stop at once.
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="processes">Its live processes.</param>
    /// <param name="waitedSeconds">How long the run was given to stop (for the message).</param>
    public static RunKill Kill(RunDirectory run, RunProcesses processes, int waitedSeconds)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(processes);
        string who = string.Join(" and ", new[] { processes.Supervisor is int s ? $"supervisor pid {s}" : null, processes.Engine is int e ? $"engine pid {e}" : null }.Where(x => x is not null));
        if (!processes.Kill(run, TimeSpan.FromSeconds(10)))
            return new RunKill(false, who, $"Run '{run.Name}': {who} could not be killed.");
        var target = CheckpointSelector.TryResumeTarget(run);
        string resume = target is not { } t ? "No good checkpoint verifies." : $"Start-TacotronTraining -Resume continues from {Path.GetFileName(t.Path)} (step {t.Step}).";
        string message = $"Killed by Stop-TacotronTraining -Force: the run did not stop within {waitedSeconds} s ({who}); no final checkpoint. {resume}";
        int step = RunStateStore.Record(run, RunStatus.Killed, message, ExitCodes.Killed).Step;
        using (var w = new JsonLinesWriter<TrainingEvent>(run.EventsFile))
        {
            w.Append(new TrainingEvent
            {
                Run = run.Name, Step = step, Time = DateTimeOffset.UtcNow, Kind = EventKinds.Killed, Code = EventCodes.TrainingKilled,
                Severity = EventSeverity.Warning, Message = message,
            });
        }
        run.ClearStopRequest();
        return new RunKill(true, who, $"Run '{run.Name}' did not stop within {waitedSeconds} s; killed {who}. {resume}");
    }
}

/// <summary>
/// One role's process (supervisor or engine) as seen by a wait: the process that held the role's lock still belongs
/// to the run until it has exited, after it released the lock.
/// </summary>
internal sealed class LockHolderWatch
{
    private readonly Dictionary<int, DateTimeOffset?> _seen = new();

    /// <summary>The role's live process: the lock's holder, else one that held it and has not exited.</summary>
    public int? Live(int? holder)
    {
        if (holder is int h && !_seen.ContainsKey(h)) _seen[h] = ProcessProbe.StartTime(h);
        if (holder is not null) return holder;
        foreach (var (pid, started) in _seen)
            if (ProcessProbe.IsAlive(pid, started)) return pid;
        return null;
    }
}

/// <summary>What <see cref="RunStopper.Kill"/> did.</summary>
/// <param name="Killed">True when no process of the run is alive afterwards (the run is recorded as Killed).</param>
/// <param name="Who">The processes it killed, e.g. "supervisor pid 12 and engine pid 13".</param>
/// <param name="Message">For the user: the warning after a kill, or the error when a process survived.</param>
public sealed record RunKill(bool Killed, string Who, string Message);
