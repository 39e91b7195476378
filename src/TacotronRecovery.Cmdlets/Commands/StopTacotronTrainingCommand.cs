using System.Management.Automation;
using TacotronRecovery.Commands.Engine;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Commands;

/// <summary>
/// <para type="synopsis">Stops a training run gracefully: the engine saves a checkpoint and exits within one step.</para>
/// <para type="description">Writes the run's stop request (runs/&lt;name&gt;/stop.request) and waits until the engine has
/// left the Running state (up to -TimeoutSeconds). With -Force an engine that does not stop in time is killed
/// (the run then resumes from its last good checkpoint). Accepts run objects from Get-TacotronRun or
/// Start-TacotronTraining -Detached on the pipeline.</para>
/// <example><code>Stop-TacotronTraining -Run voice</code><para>Stops the run 'voice' and returns its final state.</para></example>
/// <example><code>Get-TacotronRun | Where-Object Status -eq 'Running' | Stop-TacotronTraining -PassThru</code><para>Stops every running run.</para></example>
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

    /// <summary><para type="description">Kill the engine if it has not stopped in time.</para></summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary><para type="description">Return the run's final state.</para></summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        if (!this.TryResolveRun(Run, RunsRoot, out var run)) return;
        if (!RunSummary.IsEngineRunning(run))
        {
            WriteVerbose($"Run '{run.Name}' is not running.");
            if (PassThru) WriteObject(RunInfoFactory.Read(run));
            return;
        }
        if (!ShouldProcess(run.Path, "Stop training (checkpoint, then exit)")) return;
        run.RequestStop();
        var deadline = DateTime.UtcNow.AddSeconds(TimeoutSeconds);
        while (DateTime.UtcNow < deadline && RunSummary.IsEngineRunning(run)) Thread.Sleep(250);
        if (RunSummary.IsEngineRunning(run))
        {
            var state = RunStateStore.TryRead(run.StateFile);
            if (Force && state is not null && state.Pid > 0)
            {
                try { System.Diagnostics.Process.GetProcessById(state.Pid).Kill(entireProcessTree: true); }
                catch (ArgumentException) { }
                WriteWarning($"Run '{run.Name}' did not stop within {TimeoutSeconds} s; its engine (pid {state.Pid}) was killed. Resume it from its last good checkpoint.");
            }
            else
            {
                WriteError(new ErrorRecord(new TimeoutException($"Run '{run.Name}' did not stop within {TimeoutSeconds} s. Use -Force to kill its engine."),
                    "StopTimeout", ErrorCategory.OperationTimeout, run.Path));
                return;
            }
        }
        if (PassThru) WriteObject(RunInfoFactory.Read(run));
    }
}
