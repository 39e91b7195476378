using System.Management.Automation;
using System.Security;
using System.Text.Json;
using TacotronRecovery.Commands.Engine;
using TacotronRecovery.Core;
using TacotronRecovery.Core.Alerts;
using TacotronRecovery.Core.Checkpoints;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Recovery;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Commands;

/// <summary>
/// <para type="synopsis">Brings a broken training back: rollback to the last good checkpoint, safe mode, critical guided attention, tracked to a healthy model.</para>
/// <para type="description">For -Run, a running engine is first stopped gracefully (it checkpoints); then the engine restarts from
/// the last checkpoint that verifies and was healthy at save (a corrupt newest checkpoint falls back to an older one),
/// one safe-mode level up (learning rate and clip threshold halved, mixed precision off, guided attention forced on)
/// and, unless attention was well aligned, in attention critical mode (guided-attention weight raised, up to 50×).
/// The command first writes a RecoveryPlan (stages and targets with forecasts in steps and wall time from the run's
/// measured step time), then a StageReached object per stage as the run gets there, then a RecoveryResult
/// (Recovered or Failed, steps, minutes, final metrics, the good checkpoint). When the Done targets are met the
/// engine is stopped with a checkpoint. With -Checkpoint, training restarts from that checkpoint (our .ckpt format)
/// in its own run folder, or in a new run named after it with -Config/-Dataset. -Notify sends the plan, stage
/// progress and the result through Telegram (or the run's outbox when Telegram is not configured). -WhatIf shows
/// the plan and changes nothing. With no arguments, inside a clone of the repository, it runs the demo scenario end to
/// end: a demo run is trained and broken on purpose, recovered, and reported (examples/demo.ps1).</para>
/// <example><code>Invoke-EmergencyRecovery -Run voice -Notify</code><para>Recovers the run 'voice' in place and reports to Telegram.</para></example>
/// <example><code>Get-TacotronCheckpoint -Run voice -Good -Latest | Invoke-EmergencyRecovery -MaxSteps 1500</code><para>Restarts from the newest good checkpoint.</para></example>
/// <example><code>Invoke-EmergencyRecovery -Run voice -WhatIf</code><para>Shows the recovery plan with its forecast.</para></example>
/// <example><code>Invoke-EmergencyRecovery -Checkpoint ./checkpoint_42000.pt -Config ./voice.yaml -Notify</code><para>Recovers a broken PyTorch (NVIDIA-format) run: the file is imported, its model dimensions kept.</para></example>
/// <example><code>Invoke-EmergencyRecovery</code><para>In a clone of the repository: the demo scenario (train, break, recover, report).</para></example>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "EmergencyRecovery", SupportsShouldProcess = true, DefaultParameterSetName = "Demo")]
[OutputType(typeof(RecoveryPlan), typeof(StageReached), typeof(RecoveryResult), typeof(TrainingEvent))]
public sealed class InvokeEmergencyRecoveryCommand : PSCmdlet
{
    private EngineSession? _session;
    private RunDirectory? _run;
    private int? _importedStep;

    /// <summary><para type="description">Run name (under -RunsRoot) or run folder to recover in place.</para></summary>
    [Parameter(ParameterSetName = "Run", Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = "Checkpoint", ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completers.RunCompleter))]
    public string? Run { get; set; }

    /// <summary><para type="description">Checkpoint to restart from: our .ckpt, or an NVIDIA-format PyTorch file (.pt, zip or legacy; imported first, with its optimizer state when present).</para></summary>
    [Parameter(ParameterSetName = "Checkpoint", Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Path")]
    [ArgumentCompleter(typeof(Completers.CheckpointCompleter))]
    public string? Checkpoint { get; set; }

    /// <summary><para type="description">Config to train with (default: the run's own config.yaml).</para></summary>
    [Parameter]
    public string? Config { get; set; }

    /// <summary><para type="description">Dataset folder, when the config does not name one.</para></summary>
    [Parameter]
    public string? Dataset { get; set; }

    /// <summary><para type="description">Root folder of runs. Default: $env:TACOTRON_RUNS, else ./runs.</para></summary>
    [Parameter]
    public string? RunsRoot { get; set; }

    /// <summary><para type="description">Step budget of the recovery, counted from the restored step. Default 3000.</para></summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxSteps { get; set; } = 3000;

    /// <summary><para type="description">Scales the plan's stage bounds (0.1 for a tiny demo model). Default 1.</para></summary>
    [Parameter]
    [ValidateRange(0.01, 100.0)]
    public double StageScale { get; set; } = 1;

    /// <summary><para type="description">Send the plan, stage progress and the result through Telegram (or the outbox).</para></summary>
    [Parameter]
    public SwitchParameter Notify { get; set; }

    /// <summary><para type="description">Telegram bot token, when neither the config nor $env:TACOTRON_TELEGRAM_TOKEN has one.</para></summary>
    [Parameter]
    public SecureString? Token { get; set; }

    /// <summary><para type="description">Keep training after the Done targets are met, until -MaxSteps.</para></summary>
    [Parameter]
    public SwitchParameter NoEarlyStop { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        string cwd = this.CurrentDirectory();
        if (ParameterSetName == "Demo")
        {
            RunDemo(cwd);
            return;
        }
        string root = this.RunsRootPath(RunsRoot);
        string? checkpoint = this.ProviderPathOrNull(Checkpoint);
        if (checkpoint is not null && !File.Exists(checkpoint))
        {
            WriteError(new ErrorRecord(new FileNotFoundException($"Checkpoint '{checkpoint}' does not exist.", checkpoint), "CheckpointNotFound", ErrorCategory.ObjectNotFound, checkpoint));
            return;
        }
        try
        {
            _run = ResolveRun(root, cwd, checkpoint);
        }
        catch (RunDataException e)
        {
            WriteError(new ErrorRecord(e, e.ErrorId, ErrorCategory.ObjectNotFound, Run));
            return;
        }
        string? config = Config is not null ? GetUnresolvedProviderPathFromPSPath(Config) : File.Exists(_run.ConfigFile) ? _run.ConfigFile : null;
        if (checkpoint is not null && IsPyTorchFile(checkpoint))
        {
            if (!ShouldProcess(checkpoint, "Import the PyTorch checkpoint for recovery")) return;
            var imported = ImportPyTorch(checkpoint, config);
            if (imported is null) return;
            (checkpoint, config) = imported.Value;
        }
        if (config is null && Dataset is null)
        {
            WriteError(new ErrorRecord(new ArgumentException($"Run '{_run.Name}' has no config.yaml; pass -Config or -Dataset."), "ConfigMissing", ErrorCategory.InvalidArgument, _run.Path));
            return;
        }
        TacotronConfig effective;
        try { effective = ConfigLoader.LoadOrDefault(config); }
        catch (ConfigException e)
        {
            WriteError(new ErrorRecord(e, e.ErrorId, ErrorCategory.InvalidData, config));
            return;
        }

        var recent = JsonLines.ReadLast<StepMetrics>(_run.MetricsFile, 200).ToList();
        double secondsPerStep = recent.Count > 0 ? Median(recent.Select(m => m.StepSeconds)) : 1.0;
        int startStep = _importedStep ?? (checkpoint is not null ? StepOf(checkpoint) : CheckpointSelector.SelectLastGood(CheckpointManifest.Load(_run.ManifestFile))?.Entry.Step ?? 0);
        var plan = RecoveryPlan.Create(secondsPerStep, StageScale, startStep: startStep, run: _run.Name);
        WriteObject(plan);
        if (!ShouldProcess(_run.Path, $"Emergency recovery from step {startStep} (up to {MaxSteps} steps)")) return;

        if (RunSummary.IsEngineRunning(_run))
        {
            WriteVerbose($"Stopping the running engine of '{_run.Name}' (it checkpoints first).");
            _run.RequestStop();
            var deadline = DateTime.UtcNow.AddMinutes(5);
            // Its supervisor too: it holds supervisor.lock until it has exited, and the recovery's supervisor needs it.
            while ((RunSummary.IsEngineRunning(_run) || RunProcesses.Find(_run).AnyAlive) && DateTime.UtcNow < deadline) Thread.Sleep(250);
            if (RunSummary.IsEngineRunning(_run) || RunProcesses.Find(_run).AnyAlive)
            {
                ThrowTerminatingError(new ErrorRecord(new TimeoutException($"The engine of '{_run.Name}' did not stop within 5 minutes; stop it with Stop-TacotronTraining -Force first."),
                    "StopTimeout", ErrorCategory.OperationTimeout, _run.Path));
            }
            startStep = CheckpointSelector.SelectLastGood(CheckpointManifest.Load(_run.ManifestFile))?.Entry.Step ?? startStep;
        }

        INotifier? notifier = Notify ? NotifierFactory.Create(effective.Telegram, _run.OutboxDir, WriteWarning, Token, applySwitches: false) : null;
        try
        {
            notifier?.TryEnqueue(new Alert
            {
                Kind = AlertKind.RecoveryStarted, Run = _run.Name, Step = startStep, Time = DateTimeOffset.UtcNow,
                Title = $"Emergency recovery of {_run.Name} from step {startStep}",
                Lines = plan.Stages.Select(s => $"{s.Name}: {s.Target} — forecast by step {startStep + s.ForecastSteps} (~{Figures.Duration(s.ForecastTime)})").ToArray(),
            });
            var result = RunRecovery(plan, startStep, config, checkpoint, root, notifier);
            WriteObject(result);
            notifier?.TryEnqueue(new Alert
            {
                Kind = result.Outcome == RecoveryOutcome.Recovered ? AlertKind.Success : AlertKind.Critical,
                Run = _run.Name, Step = startStep + result.Steps, Time = DateTimeOffset.UtcNow,
                Title = result.Outcome == RecoveryOutcome.Recovered ? $"{_run.Name} recovered in {result.Steps} steps ({Figures.Minutes(result.Minutes)})" : $"{_run.Name}: recovery failed",
                Lines = new[]
                {
                    $"Diagonality {Figures.Share(result.Diagonality)}, GateAccuracy {Figures.Share(result.GateAccuracy)}, Quality {Figures.Percent(result.Quality)}, LengthWithin10 {Figures.Share(result.LengthWithin10)}, StepLimitHits {result.StepLimitHits} ({result.Source} step {result.ValidationStep}, free-running)",
                    $"Good checkpoint: {result.GoodCheckpoint ?? "none"}",
                    result.Diagnosis ?? "",
                }.Where(l => l.Length > 0).ToArray(),
            });
        }
        finally
        {
            if (notifier is not null)
            {
                notifier.FlushAsync(TimeSpan.FromSeconds(15)).GetAwaiter().GetResult();
                notifier.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
    }

    private void RunDemo(string cwd)
    {
        var dir = new DirectoryInfo(cwd);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "examples", "demo.ps1"))) dir = dir.Parent;
        if (dir is null)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException(
                "Give -Run or -Checkpoint. (Without arguments the command runs the demo scenario, which needs a clone of the TacotronRecovery repository: examples/demo.ps1 was not found here or above.)"),
                "RunOrCheckpointRequired", ErrorCategory.InvalidArgument, cwd));
            return;
        }
        var script = Path.Combine(dir.FullName, "examples", "demo.ps1");
        if (!ShouldProcess(script, "Run the demo scenario (train, break, recover, report)")) return;
        foreach (var o in InvokeCommand.InvokeScript($"& '{script.Replace("'", "''", StringComparison.Ordinal)}' -Root '{dir.FullName.Replace("'", "''", StringComparison.Ordinal)}'"))
            WriteObject(o);
    }

    private RecoveryResult RunRecovery(RecoveryPlan plan, int startStep, string? config, string? checkpoint, string root, INotifier? notifier)
    {
        var args = new List<string> { "supervise", "--run", _run!.Path, "--runs-root", root, "--emergency", "Invoke-EmergencyRecovery",
            "--max-steps", (startStep + MaxSteps).ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (config is not null) { args.Add("--config"); args.Add(config); }
        if (Dataset is not null) { args.Add("--dataset"); args.Add(GetUnresolvedProviderPathFromPSPath(Dataset)); }
        if (checkpoint is not null) { args.Add("--checkpoint"); args.Add(checkpoint); }
        var tracker = new StageTracker(plan, DateTimeOffset.UtcNow);
        int decisions = 0;
        string? diagnosis = null;
        var progress = new ProgressRecord(2, $"Recovering {_run.Name}", "starting the engine");
        var lastProgress = DateTime.MinValue;
        _session = EngineSession.Start(args);
        bool stopRequested = false;
        foreach (var record in _session.ReadRecords())
        {
            IReadOnlyList<StageReached> reached = Array.Empty<StageReached>();
            switch (record)
            {
                case StepMetrics m:
                    reached = tracker.Observe(m);
                    if (DateTime.UtcNow - lastProgress >= TimeSpan.FromSeconds(1))
                    {
                        lastProgress = DateTime.UtcNow;
                        progress.StatusDescription = $"step {m.Step}: loss {m.Loss:0.###}, {m.Mode}, reached {tracker.Reached?.ToString() ?? "nothing yet"}";
                        progress.PercentComplete = Math.Clamp(100 * (m.Step - startStep) / MaxSteps, 0, 100);
                        WriteProgress(progress);
                    }
                    break;
                case AlignmentMetrics a:
                    reached = tracker.Observe(a);
                    break;
                case TrainingEvent e:
                    if (e.Kind is "Recovery" or "Restart") decisions++;
                    if (e.Code is "Exhausted" or "RecoveryExhausted" or "RestartBudgetSpent") diagnosis = e.Message;
                    if (e.Severity != EventSeverity.Info) WriteObject(e);
                    break;
            }
            foreach (var s in reached)
            {
                WriteObject(s);
                notifier?.TryEnqueue(new Alert
                {
                    Kind = AlertKind.Progress, Run = _run.Name, Step = s.Step, Time = DateTimeOffset.UtcNow,
                    Title = $"{_run.Name}: {s.Stage} reached at step {s.Step}",
                    Lines = new[] { $"Diagonality {Figures.Share(s.Diagonality)}, GateAccuracy {Figures.Share(s.GateAccuracy)}, Quality {Figures.Percent(s.Quality)} ({s.Source}, free-running)", $"elapsed {Figures.Duration(s.Elapsed)}" },
                });
            }
            if (tracker.IsDone && !stopRequested && !NoEarlyStop)
            {
                stopRequested = true;
                _run.RequestStop();
            }
        }
        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
        if (_session.ExitCode is not (0 or 3))
        {
            WriteError(new ErrorRecord(new InvalidOperationException($"The engine failed (exit code {_session.ExitCode}): {_session.ErrorMessage}"),
                _session.ExitCode == 5 ? "CheckpointCorrupt" : "EngineFailed", ErrorCategory.InvalidResult, _run.Path));
            diagnosis ??= _session.ErrorMessage;
        }
        var good = CheckpointSelector.SelectLastGood(CheckpointManifest.Load(_run.ManifestFile))?.Path;
        return tracker.Result(good, decisions, tracker.IsDone ? null : diagnosis ?? $"The Done targets were not met within {MaxSteps} steps.");
    }

    /// <summary>A PyTorch file: a zip archive (PyTorch ≥ 1.6) or a legacy pickle (protocol 2+).</summary>
    private static bool IsPyTorchFile(string path)
    {
        var head = new byte[4];
        using (var fs = File.OpenRead(path)) if (fs.Read(head, 0, 4) < 2) return false;
        return (head[0] == (byte)'P' && head[1] == (byte)'K') || head[0] == 0x80;
    }

    /// <summary>
    /// Imports an NVIDIA-format PyTorch checkpoint into the run folder (our format) and writes a config whose model
    /// section matches the file's dimensions (data and the rest from -Config/-Dataset). Null after an error.
    /// </summary>
    private (string Checkpoint, string Config)? ImportPyTorch(string source, string? config)
    {
        if (config is null && Dataset is null)
        {
            WriteError(new ErrorRecord(new ArgumentException("A PyTorch checkpoint carries no dataset: pass -Config or -Dataset."), "ConfigMissing", ErrorCategory.InvalidArgument, source));
            return null;
        }
        var destination = Path.Combine(_run!.Path, Path.GetFileNameWithoutExtension(source) + ".imported.ckpt");
        if (InteropVerb.Run(this, source, "ImportFailed", "import", "--source", source, "--out", destination) is not { } data) return null;
        var model = data.GetProperty("model").Deserialize<ModelOptions>(RunJson.Options)!;
        if (data.TryGetProperty("warnings", out var warnings))
            foreach (var w in warnings.EnumerateArray()) WriteWarning(w.GetString());
        TacotronConfig effective;
        try { effective = ConfigLoader.LoadOrDefault(config); }
        catch (ConfigException e)
        {
            WriteError(new ErrorRecord(e, e.ErrorId, ErrorCategory.InvalidData, config));
            return null;
        }
        var recoveryConfig = Path.Combine(_run.Path, "config.recovery.yaml");
        ConfigWriter.WriteRedacted(effective with { Model = model, Name = _run.Name }, recoveryConfig);
        _importedStep = data.GetProperty("step").GetInt32();
        WriteVerbose($"Imported {source} (step {_importedStep}) to {destination}; model dimensions from the file in {recoveryConfig}.");
        return (destination, recoveryConfig);
    }

    private RunDirectory ResolveRun(string root, string cwd, string? checkpoint)
    {
        if (Run is not null && checkpoint is null) return RunLocator.Resolve(Run, root, cwd);
        // A checkpoint inside runs/<name>/checkpoints/ belongs to that run; else a new run named after the file.
        var dir = Path.GetDirectoryName(checkpoint!)!;
        if (Path.GetFileName(dir) == "checkpoints" && File.Exists(Path.Combine(Path.GetDirectoryName(dir)!, "config.yaml")) && Run is null)
            return new RunDirectory(Path.GetDirectoryName(dir)!);
        var name = Run ?? "recovery-" + Path.GetFileNameWithoutExtension(checkpoint);
        return new RunDirectory(Path.IsPathRooted(name) ? name : Path.Combine(root, name)).Create();
    }

    private static int StepOf(string checkpoint)
    {
        var name = Path.GetFileNameWithoutExtension(checkpoint);
        var digits = new string(name.Where(char.IsDigit).ToArray());
        return int.TryParse(digits, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Where(double.IsFinite).OrderBy(x => x).ToArray();
        return v.Length == 0 ? 1.0 : v[v.Length / 2];
    }

    /// <summary>Ctrl+C: the engine checkpoints and stops.</summary>
    protected override void StopProcessing()
    {
        if (_run is null || _session is null) return;
        try { _run.RequestStop(); } catch (IOException) { }
        _session.WaitOrKill(TimeSpan.FromMinutes(2));
    }
}
