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
/// recovery.max_restarts times; then the run ends Failed with one Exhausted event and alert.</para>
/// <example><code>Start-TacotronTraining -Dataset ./samples/demo-corpus -Preset demo -Run demo -MaxSteps 300</code><para>Trains the demo preset in the foreground.</para></example>
/// <example><code>Start-TacotronTraining -Config ./voice.yaml -Detached | Get-TrainingMetrics -Follow -Kind Alignment</code><para>Starts in the background and follows the alignment metrics.</para></example>
/// <example><code>Start-TacotronTraining -Config ./voice.yaml -Resume</code><para>Resumes a run from its last good checkpoint.</para></example>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "TacotronTraining", SupportsShouldProcess = true)]
[OutputType(typeof(StepMetrics), typeof(AlignmentMetrics), typeof(TrainingEvent), typeof(TacotronRunInfo))]
public sealed class StartTacotronTrainingCommand : PSCmdlet
{
    private EngineSession? _session;
    private RunDirectory? _run;

    /// <summary><para type="description">YAML config file (see samples/config.yaml). Parameters override its values.</para></summary>
    [Parameter(Position = 0)]
    public string? Config { get; set; }

    /// <summary><para type="description">Dataset folder (LJSpeech layout) or NVIDIA filelist; overrides data.path.</para></summary>
    [Parameter]
    public string? Dataset { get; set; }

    /// <summary><para type="description">Model preset: nvidia, small or demo; replaces the config's model dimensions.</para></summary>
    [Parameter]
    [Completers.ValidatePreset]
    [ArgumentCompleter(typeof(Completers.PresetCompleter))]
    public string? Preset { get; set; }

    /// <summary><para type="description">Run name (a folder under -RunsRoot) or a run folder path. Default: the config's name or file name.</para></summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completers.RunCompleter))]
    public string? Run { get; set; }

    /// <summary><para type="description">Root folder of runs. Default: $env:TACOTRON_RUNS, else the config's runs_root (./runs).</para></summary>
    [Parameter]
    public string? RunsRoot { get; set; }

    /// <summary><para type="description">Stop after this step; overrides training.max_steps.</para></summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? MaxSteps { get; set; }

    /// <summary><para type="description">auto, cpu, cuda or cuda:N.</para></summary>
    [Parameter]
    public string? Device { get; set; }

    /// <summary><para type="description">Torch intra-op threads (0 = one per core).</para></summary>
    [Parameter]
    [ValidateRange(0, 1024)]
    public int? Threads { get; set; }

    /// <summary><para type="description">Resume the run from its last good checkpoint.</para></summary>
    [Parameter]
    public SwitchParameter Resume { get; set; }

    /// <summary><para type="description">Start from this checkpoint (our .ckpt format).</para></summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completers.CheckpointCompleter))]
    public string? Checkpoint { get; set; }

    /// <summary><para type="description">Run the engine in the background and return the run at once.</para></summary>
    [Parameter]
    public SwitchParameter Detached { get; set; }

    /// <summary><para type="description">Write a StepMetrics object every N steps (default 50; 0 = none). Incidents and decisions are always written.</para></summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int MetricsInterval { get; set; } = 50;

    /// <inheritdoc />
    protected override void EndProcessing()
    {
        var args = new List<string> { "supervise" };
        void Add(string key, string? value) { if (value is not null) { args.Add("--" + key); args.Add(value); } }
        string? configPath = this.ProviderPathOrNull(Config);
        if (configPath is not null && !File.Exists(configPath))
        {
            ThrowTerminatingError(new ErrorRecord(new FileNotFoundException($"Config file '{configPath}' does not exist.", configPath),
                "ConfigNotFound", ErrorCategory.ObjectNotFound, configPath));
        }
        Add("config", configPath);
        Add("dataset", this.ProviderPathOrNull(Dataset));
        Add("preset", Preset);
        var root = this.RunsRootPath(RunsRoot);
        Add("runs-root", root);
        string runName;
        try
        {
            // The config is read here too, so that a broken file fails before an engine starts, and so that the run
            // folder is the one the engine will use (the config's name, else the file's base name).
            runName = Run ?? ConfigLoader.RunNameFor(ConfigLoader.LoadOrDefault(configPath), configPath);
        }
        catch (ConfigException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, e.ErrorId, ErrorCategory.InvalidData, configPath));
            return;
        }
        if (Run is not null && (Run.Contains('/') || Run.Contains('\\'))) runName = GetUnresolvedProviderPathFromPSPath(Run);
        Add("run", runName);
        Add("max-steps", MaxSteps?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("device", Device);
        Add("threads", Threads?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("checkpoint", this.ProviderPathOrNull(Checkpoint));
        if (Resume) args.Add("--resume");
        _run = new RunDirectory(Path.IsPathRooted(runName) ? runName : Path.Combine(root, runName));

        if (!ShouldProcess(_run.Path, "Start training")) return;
        if (Detached)
        {
            args.Add("--quiet");
            StartDetached(args);
            return;
        }

        _session = EngineSession.Start(args);
        int maxSteps = MaxSteps ?? 0;
        var progress = new ProgressRecord(1, $"Training {_run.Name}", "starting the engine");
        var lastProgress = DateTime.MinValue;
        double? diagonality = null;
        double secondsPerStep = double.NaN;
        foreach (var record in _session.ReadRecords())
        {
            switch (record)
            {
                case StepMetrics m:
                    secondsPerStep = double.IsNaN(secondsPerStep) ? m.StepSeconds : 0.9 * secondsPerStep + 0.1 * m.StepSeconds;
                    if (MetricsInterval > 0 && (m.Step % MetricsInterval == 0 || m.Skipped)) WriteObject(m);
                    if (DateTime.UtcNow - lastProgress >= TimeSpan.FromSeconds(1))
                    {
                        lastProgress = DateTime.UtcNow;
                        progress.StatusDescription = $"step {m.Step}: loss {m.Loss:0.###}, Diagonality {(diagonality is double d ? d.ToString("P0", System.Globalization.CultureInfo.InvariantCulture) : "n/a")}, {m.Mode}";
                        if (maxSteps > 0)
                        {
                            progress.PercentComplete = Math.Clamp(100 * m.Step / maxSteps, 0, 100);
                            progress.SecondsRemaining = (int)Math.Max(0, (maxSteps - m.Step) * secondsPerStep);
                        }
                        WriteProgress(progress);
                    }
                    break;
                case AlignmentMetrics a:
                    diagonality = a.Diagonality;
                    WriteObject(a);
                    break;
                case TrainingEvent e:
                    if (e.Severity != EventSeverity.Info || e.Kind is "Checkpoint" or "Started" or "Completed" or "Stopped") WriteObject(e);
                    if (e.Severity == EventSeverity.Critical) WriteWarning($"step {e.Step}: {e.Code}: {e.Message}");
                    break;
            }
        }
        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
        ReportExit(_session.ExitCode, _session.ErrorMessage);
        WriteObject(RunInfoFactory.Read(_run));
    }

    /// <summary>
    /// Starts the supervisor detached and waits (up to 30 s) until it has left the caller's session and pipes (it then
    /// holds supervisor.lock) and its engine has written run.json; a supervisor that exits first is an error with its
    /// message. The run object is returned either way.
    /// </summary>
    private void StartDetached(List<string> args)
    {
        var started = DateTimeOffset.UtcNow;
        var stderr = new System.Text.StringBuilder();
        using (var p = EngineSession.StartDetached(args))
        {
            p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
            p.OutputDataReceived += (_, _) => { };
            p.BeginErrorReadLine();
            p.BeginOutputReadLine();
            WriteVerbose($"Supervisor started in the background (pid {p.Id}); run folder {_run!.Path}; its output goes to {Path.Combine(_run.LogsDir, "supervisor.log")}.");
            var deadline = DateTime.UtcNow.AddSeconds(30);
            bool detached = false;
            while (DateTime.UtcNow < deadline)
            {
                if (p.HasExited)
                {
                    p.WaitForExit();
                    string message;
                    lock (stderr) message = stderr.ToString().Trim();
                    if (p.ExitCode != 0)
                    {
                        var log = Path.Combine(_run.LogsDir, "supervisor.log");
                        if (message.Length == 0 && File.Exists(log)) message = string.Join(Environment.NewLine, File.ReadLines(log).TakeLast(5));
                        ReportExit(p.ExitCode, message.Replace("error: ", "", StringComparison.Ordinal));
                    }
                    break;
                }
                detached = detached || RunLock.ReadHolder(_run.SupervisorLockFile)?.Pid == p.Id;
                if (detached && RunStateStore.TryRead(_run.StateFile) is { } state && state.Updated >= started) break;
                Thread.Sleep(200);
            }
            // Disposing closes our ends of its first pipes; by now it writes to its log files.
        }
        WriteObject(RunInfoFactory.Read(_run!));
    }

    private void ReportExit(int code, string message)
    {
        switch (code)
        {
            case 0:
                return;
            case 3:
                WriteError(new ErrorRecord(new InvalidOperationException($"Recovery exhausted for run '{_run!.Name}'. {message}".Trim()),
                    "RecoveryExhausted", ErrorCategory.OperationStopped, _run.Path));
                return;
            case 4:
                ThrowTerminatingError(new ErrorRecord(new InvalidOperationException(message), "RunLocked", ErrorCategory.ResourceBusy, _run!.Path));
                return;
            case 5:
                var id = message.Contains("yaml", StringComparison.OrdinalIgnoreCase) || message.Contains("config", StringComparison.OrdinalIgnoreCase) ? "ConfigInvalid"
                    : message.Contains("checkpoint", StringComparison.OrdinalIgnoreCase) ? "CheckpointCorrupt" : "DataInvalid";
                ThrowTerminatingError(new ErrorRecord(new InvalidDataException(message), id, ErrorCategory.InvalidData, _run!.Path));
                return;
            default:
                ThrowTerminatingError(new ErrorRecord(new InvalidOperationException($"The engine failed (exit code {code}): {message}"),
                    "EngineFailed", ErrorCategory.InvalidResult, _run!.Path));
                return;
        }
    }

    /// <summary>Ctrl+C: ask the engine to checkpoint and stop, then wait for it (the stop request stays until it has stopped).</summary>
    protected override void StopProcessing()
    {
        if (_run is null || _session is null) return;
        try { _run.RequestStop(); } catch (IOException) { }
        _session.WaitOrKill(TimeSpan.FromMinutes(2));
    }
}
