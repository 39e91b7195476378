using System.Management.Automation;
using TacotronRecovery.Commands.Engine;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Commands;

/// <summary>
/// <para type="synopsis">Stops a training run gracefully: the engine saves a checkpoint and exits within one step.</para>
/// <para type="description">Writes the run's stop request (runs/&lt;name&gt;/stop.request) and waits until the engine has
/// and its supervisor have exited (up to -TimeoutSeconds); the run's status is then Stopped. The request stays in force
/// until the run has stopped, so the supervisor never restarts an engine after it. With -Force a run that does not
/// stop in time is killed: supervisor first, then the engine (on Linux and macOS the whole process group of a detached
/// run, and the process group of an external command started with Start-TacotronTraining -Command, torchrun's workers
/// included), and its status becomes Killed (no final checkpoint; a resume continues from the last good one). Accepts run
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
        if (!RunStopper.IsRunning(run))
        {
            WriteVerbose($"Run '{run.Name}' is not running.");
            if (PassThru) WriteObject(RunInfoFactory.Read(run));
            return;
        }
        if (!ShouldProcess(run.Path, "Stop training (checkpoint, then exit)")) return;
        var processes = RunStopper.RequestAndWait(run, TimeSpan.FromSeconds(TimeoutSeconds));
        if (processes.AnyAlive)
        {
            if (!Force)
            {
                WriteError(new ErrorRecord(new TimeoutException($"Run '{run.Name}' did not stop within {TimeoutSeconds} s. The stop request stays in force (the engine stops at its next step and is not restarted); use -Force to kill it."),
                    "StopTimeout", ErrorCategory.OperationTimeout, run.Path));
                return;
            }
            var kill = RunStopper.Kill(run, processes, TimeoutSeconds);
            if (!kill.Killed)
            {
                WriteError(new ErrorRecord(new InvalidOperationException(kill.Message), "KillFailed", ErrorCategory.OperationStopped, run.Path));
                return;
            }
            WriteWarning(kill.Message);
        }
        else
        {
            var state = RunStateStore.TryRead(run.StateFile);
            WriteVerbose($"Run '{run.Name}': {state?.Status}: {state?.Message}");
        }
        if (PassThru) WriteObject(RunInfoFactory.Read(run));
    }
}
