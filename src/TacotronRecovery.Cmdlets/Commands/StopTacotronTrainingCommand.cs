using System.Management.Automation;
using TacotronRecovery.Commands.Engine;
using TacotronRecovery.Core.Checkpoints;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Commands;

/// <summary>
/// <para type="synopsis">Stops a training run gracefully: the engine saves a checkpoint and exits within one step.</para>
/// <para type="description">Writes the run's stop request (runs/&lt;name&gt;/stop.request) and waits until the engine has
/// and its supervisor have exited (up to -TimeoutSeconds); the run's status is then Stopped. The request stays in force
/// until the run has stopped, so the supervisor never restarts an engine after it. With -Force a run that does not
/// stop in time is killed: supervisor first, then the engine (on Linux and macOS the whole process group of a detached
/// run), and its status becomes Killed (no final checkpoint; a resume continues from the last good one). Accepts run
/// objects from Get-TacotronRun or Start-TacotronTraining -Detached on the pipeline.</para>
/// <example><code>Stop-TacotronTraining -Run voice</code><para>Stops the run 'voice' and returns its final state.</para></example>
/// <example><code>Get-TacotronRun | Where-Object Status -eq 'Running' | Stop-TacotronTraining -PassThru</code><para>Stops every running run.</para></example>
/// <example><code>Stop-TacotronTraining -Run voice -TimeoutSeconds 30 -Force -PassThru</code><para>Stops 'voice'; if it has not stopped within 30 s (a hung or frozen engine), kills its supervisor and engine and returns the run with status Killed.</para></example>
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "TacotronTraining", SupportsShouldProcess = true)]
[OutputType(typeof(TacotronRunInfo))]
public sealed class StopTacotronTrainingCommand : PSCmdlet
{
    /// <summary><para type="description">Run name (under -RunsRoot) or run folder.</para></summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Path")]
    [ArgumentCompleter(typeof(Completers.RunCompleter))]
    public string Run { get; set; } = "";

    /// <summary><para type="description">Root folder of runs. Default: $env:TACOTRON_RUNS, else ./runs.</para></summary>
    [Parameter]
    public string? RunsRoot { get; set; }

    /// <summary><para type="description">How long to wait for the engine to stop. Default 120 s.</para></summary>
    [Parameter]
    [ValidateRange(0, 86400)]
    public int TimeoutSeconds { get; set; } = 120;

    /// <summary><para type="description">Kill the run (supervisor, then engine) if it has not stopped in time; its status becomes Killed.</para></summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary><para type="description">Return the run's final state.</para></summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        if (!this.TryResolveRun(Run, RunsRoot, out var run)) return;
        if (!RunSummary.IsEngineRunning(run) && !RunProcesses.Find(run).AnyAlive)
        {
            WriteVerbose($"Run '{run.Name}' is not running.");
            if (PassThru) WriteObject(RunInfoFactory.Read(run));
            return;
        }
        if (!ShouldProcess(run.Path, "Stop training (checkpoint, then exit)")) return;
        // The request stays in force until the run has stopped: the supervisor restarts no engine while it exists.
        run.RequestStop();
        var deadline = DateTime.UtcNow.AddSeconds(TimeoutSeconds);
        var processes = RunProcesses.Find(run);
        while (DateTime.UtcNow < deadline && (processes.AnyAlive || RunSummary.IsEngineRunning(run)))
        {
            Thread.Sleep(250);
            processes = RunProcesses.Find(run);
        }
        if (processes.AnyAlive)
        {
            if (!Force)
            {
                WriteError(new ErrorRecord(new TimeoutException($"Run '{run.Name}' did not stop within {TimeoutSeconds} s. The stop request stays in force (the engine stops at its next step and is not restarted); use -Force to kill it."),
                    "StopTimeout", ErrorCategory.OperationTimeout, run.Path));
                return;
            }
            Kill(run, processes);
        }
        else
        {
            var state = RunStateStore.TryRead(run.StateFile);
            WriteVerbose($"Run '{run.Name}': {state?.Status}: {state?.Message}");
        }
        if (PassThru) WriteObject(RunInfoFactory.Read(run));
    }

    private void Kill(RunDirectory run, RunProcesses processes)
    {
        string who = string.Join(" and ", new[] { processes.Supervisor is int s ? $"supervisor pid {s}" : null, processes.Engine is int e ? $"engine pid {e}" : null }.Where(x => x is not null));
        bool gone = processes.Kill(run, TimeSpan.FromSeconds(10));
        if (!gone)
        {
            WriteError(new ErrorRecord(new InvalidOperationException($"Run '{run.Name}': {who} could not be killed."),
                "KillFailed", ErrorCategory.OperationStopped, run.Path));
            return;
        }
        var target = CheckpointSelector.TryLastGood(run);
        string resume = target is null ? "No good checkpoint verifies." : $"Start-TacotronTraining -Resume continues from {Path.GetFileName(target.Path)} (step {target.Entry.Step}).";
        string message = $"Killed by Stop-TacotronTraining -Force: the run did not stop within {TimeoutSeconds} s ({who}); no final checkpoint. {resume}";
        int step = RunStateStore.Record(run, RunStatus.Killed, message, 137).Step;
        using (var w = new JsonLinesWriter<TacotronRecovery.Core.Metrics.TrainingEvent>(run.EventsFile))
        {
            w.Append(new TacotronRecovery.Core.Metrics.TrainingEvent
            {
                Run = run.Name, Step = step, Time = DateTimeOffset.UtcNow, Kind = "Killed", Code = "TrainingKilled",
                Severity = TacotronRecovery.Core.Metrics.EventSeverity.Warning, Message = message,
            });
        }
        run.ClearStopRequest(); // the run has stopped: a later start must not stop at once
        WriteWarning($"Run '{run.Name}' did not stop within {TimeoutSeconds} s; killed {who}. {resume}");
    }
}
