using System.Management.Automation;
using TacotronRecovery.Commands.Engine;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Commands;

/// <summary>
/// <para type="synopsis">Trains a Tacotron 2 model in an engine process that recovers by itself.</para>
/// <para type="description">Starts the engine (a supervised TacotronRecovery.Host process that owns libtorch) for one run.
/// In the foreground it shows progress (step, loss, Diagonality, ETA) and writes typed objects: StepMetrics every
/// -MetricsInterval steps, AlignmentMetrics at each measurement, and TrainingEvent objects (checkpoints, incidents,
/// recovery decisions). Ctrl+C stops the engine gracefully: it saves a checkpoint within one step. With -Detached
/// the engine runs in the background and the run object is returned at once; follow it with
/// Get-TrainingMetrics -Follow and stop it with Stop-TacotronTraining. A detached run has its own session and process
/// group: closing the terminal or Ctrl+C in the starting shell does not reach it, and a caller that captures output
/// returns at once; its output goes to the run's logs/ folder. Everything is also written to the run directory
/// (runs/&lt;name&gt;/). A dying engine is restarted from the newest good checkpoint one safe-mode level higher, up to
/// recovery.max_restarts times; then the run ends Failed with one Exhausted event and alert.
/// With -Command the same supervisor runs an external training command instead of our engine, e.g. torchrun with a
/// PyTorch script instrumented with module/python/tacotron_recovery.py (docs/scale-out-supervisor.md): the command is the
/// leader of its own process group; the supervisor follows the metrics, attention matrices and checkpoints the adapter
/// writes into the run folder, with the same recovery controller, events, progress and objects as for our engine. Knob
/// changes (safe mode, critical guided attention) reach every rank through knobs.json; a rollback stops the whole group
/// (stop.request, then SIGTERM and SIGKILL after -GraceSeconds) and restarts the command with {checkpoint} replaced by
/// the last Good checkpoint; a command that dies is restarted the same way, one safe-mode level higher, until the
/// restart budget is spent. -MaxSteps stops the command once it reports that step.</para>
/// <example><code>Start-TacotronTraining -Dataset ./samples/demo-corpus -Preset demo -Run demo -MaxSteps 300</code><para>Trains the demo preset in the foreground.</para></example>
/// <example><code>Start-TacotronTraining -Config ./voice.yaml -Detached | Get-TrainingMetrics -Follow -Kind Alignment</code><para>Starts in the background and follows the alignment metrics.</para></example>
/// <example><code>Start-TacotronTraining -Config ./voice.yaml -Resume</code><para>Resumes a run from its last good checkpoint.</para></example>
/// <example><code>Start-TacotronTraining -Run ddp -Command 'torchrun', '--nproc_per_node', '2', 'train.py', '--output_directory', 'out', '-c', '{checkpoint}' -Detached</code><para>Supervises a 2-rank torchrun training of a PyTorch script that uses the tacotron_recovery adapter; a rollback or a death restarts it with -c set to the last Good checkpoint.</para></example>
/// <example><code>Start-TacotronTraining -Run ddp -Command 'torchrun', '--nproc_per_node', '2', 'train.py', '--output_directory', 'out', '-c', '{checkpoint}' -Resume</code><para>Resumes the external run from its last Good checkpoint, in the foreground.</para></example>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "TacotronTraining", SupportsShouldProcess = true, DefaultParameterSetName = "Engine")]
[OutputType(typeof(StepMetrics), typeof(AlignmentMetrics), typeof(TrainingEvent), typeof(TacotronRunInfo))]
public sealed class StartTacotronTrainingCommand : PSCmdlet
{
    private EngineSession? _session;
    private RunDirectory? _run;

    /// <summary><para type="description">YAML config file (see samples/config.yaml). Parameters override its values.</para></summary>
    [Parameter(Position = 0)]
    public string? Config { get; set; }

    /// <summary><para type="description">Dataset folder (LJSpeech layout) or NVIDIA filelist; overrides data.path.</para></summary>
    [Parameter(ParameterSetName = "Engine")]
    public string? Dataset { get; set; }

    /// <summary><para type="description">Model preset: nvidia, small or demo; replaces the config's model dimensions.</para></summary>
    [Parameter(ParameterSetName = "Engine")]
    [Completers.ValidatePreset]
    [ArgumentCompleter(typeof(Completers.PresetCompleter))]
    public string? Preset { get; set; }

    /// <summary><para type="description">Run name (a folder under -RunsRoot) or a run folder path. Default: the config's name or file name (required with -Command).</para></summary>
    [Parameter(ParameterSetName = "Engine", ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = "Command", Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completers.RunCompleter))]
    public string? Run { get; set; }

    /// <summary><para type="description">Root folder of runs. Default: $env:TACOTRON_RUNS, else the config's runs_root (./runs).</para></summary>
    [Parameter]
    public string? RunsRoot { get; set; }

    /// <summary><para type="description">Stop after this step; overrides training.max_steps (with -Command: the command is asked to stop once it reports this step).</para></summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? MaxSteps { get; set; }

    /// <summary><para type="description">auto, cpu, cuda or cuda:N.</para></summary>
    [Parameter(ParameterSetName = "Engine")]
    public string? Device { get; set; }

    /// <summary><para type="description">Torch intra-op threads (0 = one per core).</para></summary>
    [Parameter(ParameterSetName = "Engine")]
    [ValidateRange(0, 1024)]
    public int? Threads { get; set; }

    /// <summary><para type="description">Resume the run from its last good checkpoint.</para></summary>
    [Parameter]
    public SwitchParameter Resume { get; set; }

    /// <summary><para type="description">Start from this checkpoint (our .ckpt format; with -Command the file that replaces {checkpoint}, e.g. an NVIDIA-format .pt).</para></summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completers.CheckpointCompleter))]
    public string? Checkpoint { get; set; }

    /// <summary><para type="description">Run the engine in the background and return the run at once.</para></summary>
    [Parameter]
    public SwitchParameter Detached { get; set; }

    /// <summary><para type="description">An external training command to supervise instead of our engine: the program, then its arguments, with the literal {checkpoint} where a checkpoint path goes (removed, with the option name before it, when there is none). The command runs in the current location (relative paths in it resolve there); the run folder reaches it as $env:TACOTRON_RECOVERY_RUN.</para></summary>
    [Parameter(ParameterSetName = "Command", Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string[]? Command { get; set; }

    /// <summary><para type="description">With -Command: seconds the command is given to stop by itself (it sees stop.request, saves and exits) before its process group gets SIGTERM, then SIGKILL 5 s later. Default 30.</para></summary>
    [Parameter(ParameterSetName = "Command")]
    [ValidateRange(0, 86400)]
    public int GraceSeconds { get; set; } = 30;

    /// <summary><para type="description">Write a StepMetrics object every N steps (default 50; 0 = none). Incidents and decisions are always written.</para></summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int MetricsInterval { get; set; } = 50;

    /// <inheritdoc />
    protected override void EndProcessing()
    {
        string? configPath = this.ProviderPathOrNull(Config);
        TrainingLaunch launch;
        try
        {
            launch = TrainingLaunch.Prepare(new TrainingRequest
            {
                Config = configPath, Dataset = this.ProviderPathOrNull(Dataset), Preset = Preset, RunsRoot = this.RunsRootPath(RunsRoot),
                Run = Run is not null && (Run.Contains('/') || Run.Contains('\\')) ? GetUnresolvedProviderPathFromPSPath(Run) : Run,
                MaxSteps = MaxSteps, Device = Device, Threads = Threads, Checkpoint = this.ProviderPathOrNull(Checkpoint), Resume = Resume, Detached = Detached,
                Command = Command, GraceSeconds = Command is null ? null : GraceSeconds, WorkingDirectory = this.CurrentDirectory(),
            });
        }
        catch (FileNotFoundException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "ConfigNotFound", ErrorCategory.ObjectNotFound, configPath));
            return;
        }
        catch (ConfigException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, e.ErrorId, ErrorCategory.InvalidData, configPath));
            return;
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "CommandInvalid", ErrorCategory.InvalidArgument, Command));
            return;
        }
        catch (RunDataException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, e.ErrorId, ErrorCategory.InvalidData, e.Target));
            return;
        }
        _run = launch.Run;
        if (!ShouldProcess(_run.Path, "Start training")) return;
        if (Detached)
        {
            var exited = EngineSession.StartDetachedAndWait(launch.Arguments, _run, TimeSpan.FromSeconds(30),
                pid => WriteVerbose($"Supervisor started in the background (pid {pid}); run folder {_run.Path}; its output goes to {_run.SupervisorLog}."));
            if (exited is { } x) ReportExit(EngineExit.ToError(x.ExitCode, null, x.Message, _run.Path, run: _run.Name));
            WriteObject(RunInfoFactory.Read(_run));
            return;
        }

        _session = EngineSession.Start(launch.Arguments);
        var feed = new TrainingFeed(MetricsInterval, MaxSteps ?? 0);
        var progress = new ProgressRecord(1, $"Training {_run.Name}", "starting the engine");
        foreach (var record in _session.ReadTrainingRecords())
        {
            var item = feed.Observe(record, DateTime.UtcNow);
            if (item.Write) WriteObject(record);
            if (item.Warning is not null) WriteWarning(item.Warning);
            if (item.Progress is { } p)
            {
                progress.StatusDescription = p.Status;
                if (p.Percent is int percent) progress.PercentComplete = percent;
                if (p.SecondsRemaining is int seconds) progress.SecondsRemaining = seconds;
                WriteProgress(progress);
            }
        }
        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
        ReportExit(_session.ToError(_run.Path, run: _run.Name));
        WriteObject(RunInfoFactory.Read(_run));
    }

    /// <summary>An exhausted run is a non-terminating error (the run object still follows); any other failure ends the command.</summary>
    private void ReportExit(ErrorRecord? error)
    {
        if (error is null) return;
        if (error.FullyQualifiedErrorId == "RecoveryExhausted") WriteError(error);
        else ThrowTerminatingError(error);
    }

    /// <summary>Ctrl+C: ask the engine to checkpoint and stop, then wait for it (the stop request stays until it has stopped).</summary>
    protected override void StopProcessing()
    {
        if (_run is null || _session is null) return;
        try { _run.RequestStop(); } catch (IOException) { }
        _session.WaitOrKill(TimeSpan.FromMinutes(2));
    }
}
