using System.Management.Automation;
using System.Security;
using System.Text.Json;
using TacotronRecovery.Commands.Engine;
using TacotronRecovery.Core.Contract;
using TacotronRecovery.Core.Alerts;
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
            _run = EmergencyRecovery.ResolveRun(Run, checkpoint, root, cwd);
        }
        catch (RunDataException e)
        {
            WriteError(new ErrorRecord(e, e.ErrorId, ErrorCategory.ObjectNotFound, Run));
            return;
        }
        string? config = Config is not null ? GetUnresolvedProviderPathFromPSPath(Config) : File.Exists(_run.ConfigFile) ? _run.ConfigFile : null;
        int? importedStep = null;
        if (checkpoint is not null && EmergencyRecovery.IsPyTorchFile(checkpoint))
        {
            if (!ShouldProcess(checkpoint, "Import the PyTorch checkpoint for recovery")) return;
            if (ImportPyTorch(checkpoint, config) is not { } imported) return;
            (checkpoint, config, importedStep) = imported;
        }
        if (config is null && Dataset is null)
        {
            WriteError(new ErrorRecord(new ArgumentException($"Run '{_run.Name}' has no config.yaml; pass -Config or -Dataset."), "ConfigMissing", ErrorCategory.InvalidArgument, _run.Path));
            return;
        }
        if (LoadConfig(config) is not { } effective) return;

        int startStep = EmergencyRecovery.StartStep(_run, checkpoint, importedStep);
        var plan = EmergencyRecovery.Plan(_run, startStep, StageScale);
        WriteObject(plan);
        if (!ShouldProcess(_run.Path, $"Emergency recovery from step {startStep} (up to {MaxSteps} steps)")) return;

        if (RunSummary.IsEngineRunning(_run))
        {
            WriteVerbose($"Stopping the running engine of '{_run.Name}' (it checkpoints first).");
            // Its supervisor too: it holds supervisor.lock until it has exited, and the recovery's supervisor needs it.
            RunStopper.RequestAndWait(_run, EmergencyRecovery.StopTimeout);
            if (RunStopper.IsRunning(_run))
            {
                ThrowTerminatingError(new ErrorRecord(new TimeoutException($"The engine of '{_run.Name}' did not stop within 5 minutes; stop it with Stop-TacotronTraining -Force first."),
                    "StopTimeout", ErrorCategory.OperationTimeout, _run.Path));
            }
            startStep = EmergencyRecovery.LastGoodStep(_run) ?? startStep;
        }

        INotifier? notifier = Notify ? NotifierFactory.Create(effective.Telegram, _run.OutboxDir, WriteWarning, Token, applySwitches: false) : null;
        try
        {
            notifier?.TryEnqueue(EmergencyRecovery.StartedAlert(plan, _run.Name, startStep));
            var result = RunRecovery(plan, startStep, config, checkpoint, root, notifier);
            WriteObject(result);
            notifier?.TryEnqueue(EmergencyRecovery.ResultAlert(result, _run.Name, startStep));
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
        if (EmergencyRecovery.FindDemo(cwd) is not { } demo)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException(
                "Give -Run or -Checkpoint. (Without arguments the command runs the demo scenario, which needs a clone of the TacotronRecovery repository: examples/demo.ps1 was not found here or above.)"),
                "RunOrCheckpointRequired", ErrorCategory.InvalidArgument, cwd));
            return;
        }
        var (script, root) = demo;
        if (!ShouldProcess(script, "Run the demo scenario (train, break, recover, report)")) return;
        foreach (var o in InvokeCommand.InvokeScript($"& '{script.Replace("'", "''", StringComparison.Ordinal)}' -Root '{root.Replace("'", "''", StringComparison.Ordinal)}'"))
            WriteObject(o);
    }

    private RecoveryResult RunRecovery(RecoveryPlan plan, int startStep, string? config, string? checkpoint, string root, INotifier? notifier)
    {
        var args = EmergencyRecovery.EngineArguments(_run!, root, startStep, MaxSteps, config, this.ProviderPathOrNull(Dataset), checkpoint, this.CurrentDirectory());
        var monitor = new RecoveryMonitor(plan, _run!, startStep, MaxSteps, earlyStop: !NoEarlyStop, DateTimeOffset.UtcNow);
        var progress = new ProgressRecord(2, $"Recovering {_run!.Name}", "starting the engine");
        _session = EngineSession.Start(args);
        foreach (var record in _session.ReadTrainingRecords())
        {
            var item = monitor.Observe(record, DateTime.UtcNow);
            if (item.Write) WriteObject(record);
            if (item.Progress is { } p)
            {
                progress.StatusDescription = p.Status;
                progress.PercentComplete = p.Percent;
                WriteProgress(progress);
            }
            foreach (var s in item.Reached)
            {
                WriteObject(s);
                notifier?.TryEnqueue(EmergencyRecovery.StageAlert(s, _run.Name));
            }
        }
        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
        // An exhausted recovery is a Failed result, not an error.
        var error = _session.ExitCode == ExitCodes.Exhausted ? null : _session.ToError(_run.Path, badInputId: "CheckpointCorrupt");
        if (error is not null) WriteError(error);
        return monitor.Result(error?.Exception.Message);
    }

    /// <summary>
    /// Imports an NVIDIA-format PyTorch checkpoint into the run folder (our format) and writes a config whose model
    /// section matches the file's dimensions (data and the rest from -Config/-Dataset). Null after an error.
    /// </summary>
    private (string Checkpoint, string Config, int Step)? ImportPyTorch(string source, string? config)
    {
        if (config is null && Dataset is null)
        {
            WriteError(new ErrorRecord(new ArgumentException("A PyTorch checkpoint carries no dataset: pass -Config or -Dataset."), "ConfigMissing", ErrorCategory.InvalidArgument, source));
            return null;
        }
        var destination = EmergencyRecovery.ImportDestination(_run!, source);
        if (EngineVerb.Run(this, source, "ImportFailed", EngineEnvelope.Import, TimeSpan.FromMinutes(15), "import", "--source", source, "--out", destination) is not { } data) return null;
        if (data.TryGetProperty("warnings", out var warnings))
            foreach (var w in warnings.EnumerateArray()) WriteWarning(w.GetString());
        if (LoadConfig(config) is not { } effective) return null;
        var recoveryConfig = EmergencyRecovery.WriteImportedConfig(_run!, effective, data.GetProperty("model").Deserialize<ModelOptions>(RunJson.Options)!);
        int step = data.GetProperty("step").GetInt32();
        WriteVerbose($"Imported {source} (step {step}) to {destination}; model dimensions from the file in {recoveryConfig}.");
        return (destination, recoveryConfig, step);
    }

    private TacotronConfig? LoadConfig(string? config)
    {
        try { return ConfigLoader.LoadOrDefault(config); }
        catch (ConfigException e)
        {
            WriteError(new ErrorRecord(e, e.ErrorId, ErrorCategory.InvalidData, config));
            return null;
        }
    }

    /// <summary>Ctrl+C: the engine checkpoints and stops.</summary>
    protected override void StopProcessing()
    {
        if (_run is null || _session is null) return;
        try { _run.RequestStop(); } catch (IOException) { }
        _session.WaitOrKill(TimeSpan.FromMinutes(2));
    }
}
