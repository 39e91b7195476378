using System.Globalization;
using TacotronRecovery.Core.Alerts;
using TacotronRecovery.Core.Checkpoints;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Contract;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Recovery;

/// <summary>
/// What Invoke-EmergencyRecovery decides before and around the engine: the run to recover in, the checkpoint's format,
/// the config an imported checkpoint trains with, the step it starts from and its plan, the engine's command line, and
/// the alerts of the start and the result. The cmdlet binds parameters, runs the engine and writes streams.
/// </summary>
public static class EmergencyRecovery
{
    /// <summary>How long a running engine is given to checkpoint and stop before the recovery starts its own.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The demo scenario of a repository clone: <c>examples/demo.ps1</c> in <paramref name="cwd"/> or a folder above it,
    /// with the clone's root; null outside a clone.
    /// </summary>
    public static (string Script, string Root)? FindDemo(string cwd)
    {
        for (var dir = new DirectoryInfo(cwd); dir is not null; dir = dir.Parent)
        {
            var script = Path.Combine(dir.FullName, "examples", "demo.ps1");
            if (File.Exists(script)) return (script, dir.FullName);
        }
        return null;
    }

    /// <summary>True for a PyTorch file: a zip archive (PyTorch ≥ 1.6) or a legacy pickle (protocol 2+).</summary>
    public static bool IsPyTorchFile(string path)
    {
        var head = new byte[4];
        using (var fs = File.OpenRead(path)) if (fs.Read(head, 0, 4) < 2) return false;
        return (head[0] == (byte)'P' && head[1] == (byte)'K') || head[0] == 0x80;
    }

    /// <summary>
    /// The run to recover in: <paramref name="run"/> (name or folder) when no checkpoint is given; a checkpoint inside
    /// runs/&lt;name&gt;/checkpoints/ belongs to that run; else a new run named <paramref name="run"/> or after the file
    /// (created).
    /// </summary>
    /// <exception cref="RunDataException">RunNotFound.</exception>
    public static RunDirectory ResolveRun(string? run, string? checkpoint, string root, string cwd)
    {
        if (run is not null && checkpoint is null) return RunLocator.Resolve(run, root, cwd);
        if (run is null && RunDirectory.OwnerOf(checkpoint!) is { } owner) return owner;
        var name = run ?? "recovery-" + Path.GetFileNameWithoutExtension(checkpoint);
        return new RunDirectory(Path.IsPathRooted(name) ? name : Path.Combine(root, name)).Create();
    }

    /// <summary>The step in a checkpoint's file name (its digits), else 0.</summary>
    public static int StepOf(string checkpoint)
    {
        var digits = new string(Path.GetFileNameWithoutExtension(checkpoint).Where(char.IsDigit).ToArray());
        return int.TryParse(digits, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;
    }

    /// <summary>The median step time of the run's last 200 steps (1 s when it has none).</summary>
    public static double SecondsPerStep(RunDirectory run)
    {
        var v = JsonLines.ReadLast<StepMetrics>(run.MetricsFile, 200).Select(m => m.StepSeconds).Where(double.IsFinite).OrderBy(x => x).ToArray();
        return v.Length == 0 ? 1.0 : v[v.Length / 2];
    }

    /// <summary>The step training restarts from: the imported step, the checkpoint's, else the run's newest Good checkpoint's (0 without one).</summary>
    public static int StartStep(RunDirectory run, string? checkpoint, int? importedStep = null) =>
        importedStep ?? (checkpoint is not null ? StepOf(checkpoint) : LastGoodStep(run) ?? 0);

    /// <summary>The step of the run's newest verified Good checkpoint (for an external command's run, of its ledger), or null.</summary>
    public static int? LastGoodStep(RunDirectory run) =>
        run.IsExternal ? CheckpointSelector.TryResumeTarget(run)?.Step : CheckpointSelector.SelectLastGood(CheckpointManifest.Load(run.ManifestFile))?.Entry.Step;

    /// <summary>The run's plan from <paramref name="startStep"/>, forecast with the run's measured step time.</summary>
    public static RecoveryPlan Plan(RunDirectory run, int startStep, double stageScale) =>
        RecoveryPlan.Create(SecondsPerStep(run), stageScale, startStep: startStep, run: run.Name);

    /// <summary>
    /// Writes the config an imported PyTorch checkpoint trains with: <paramref name="effective"/> with the model
    /// dimensions read from the file, named after the run (config.recovery.yaml, secrets redacted). Returns its path.
    /// </summary>
    public static string WriteImportedConfig(RunDirectory run, TacotronConfig effective, ModelOptions model)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(effective);
        ConfigWriter.WriteRedacted(effective with { Model = model, Name = run.Name }, run.RecoveryConfigFile);
        return run.RecoveryConfigFile;
    }

    /// <summary>Where an imported PyTorch checkpoint is written: the run folder, <c>&lt;name&gt;.imported.ckpt</c>.</summary>
    public static string ImportDestination(RunDirectory run, string source) => Path.Combine(run.Path, Path.GetFileNameWithoutExtension(source) + ".imported.ckpt");

    /// <summary>
    /// The engine's command line: <c>supervise</c> in emergency mode, up to <paramref name="maxSteps"/> steps past
    /// <paramref name="startStep"/>. For a run of an external command (command.json) the supervisor runs that command
    /// instead: safe mode one level up and, unless attention was well aligned, attention critical mode, written to
    /// knobs.json before the command restarts from the last Good checkpoint of its ledger; it stops the command at the
    /// step limit.
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="root">The runs root.</param>
    /// <param name="startStep">The step training restarts from.</param>
    /// <param name="maxSteps">The step budget.</param>
    /// <param name="config">Config file, if any.</param>
    /// <param name="dataset">Dataset, if any.</param>
    /// <param name="checkpoint">Checkpoint to restart from, if given.</param>
    /// <param name="workingDirectory">Where an external command runs (the caller's current location).</param>
    public static IReadOnlyList<string> EngineArguments(RunDirectory run, string root, int startStep, int maxSteps, string? config, string? dataset, string? checkpoint, string? workingDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        var args = new List<string> { "supervise", "--run", run.Path, "--runs-root", root, "--emergency", "Invoke-EmergencyRecovery",
            "--max-steps", (startStep + maxSteps).ToString(CultureInfo.InvariantCulture) };
        if (config is not null) { args.Add("--config"); args.Add(config); }
        if (dataset is not null) { args.Add("--dataset"); args.Add(dataset); }
        if (checkpoint is not null) { args.Add("--checkpoint"); args.Add(checkpoint); }
        if (checkpoint is null && ExternalCommand.TryLoad(run) is { } command)
        {
            args.Add("--command"); args.Add(ExternalCommand.ToJson(command));
            if (workingDirectory is not null) { args.Add("--working-directory"); args.Add(workingDirectory); }
        }
        return args;
    }

    /// <summary>The alert that announces the recovery with its plan.</summary>
    public static Alert StartedAlert(RecoveryPlan plan, string run, int startStep) => new()
    {
        Kind = AlertKind.RecoveryStarted, Run = run, Step = startStep, Time = DateTimeOffset.UtcNow,
        Title = $"Emergency recovery of {run} from step {startStep}",
        Lines = plan.Stages.Select(s => $"{s.Name}: {s.Target} — forecast by step {startStep + s.ForecastSteps} (~{Figures.Duration(s.ForecastTime)})").ToArray(),
    };

    /// <summary>The alert of a reached stage.</summary>
    public static Alert StageAlert(StageReached s, string run) => new()
    {
        Kind = AlertKind.Progress, Run = run, Step = s.Step, Time = DateTimeOffset.UtcNow,
        Title = $"{run}: {s.Stage} reached at step {s.Step}",
        Lines = [$"Diagonality {Figures.Share(s.Diagonality)}, GateAccuracy {Figures.Share(s.GateAccuracy)}, Quality {Figures.Percent(s.Quality)} ({s.Source}, free-running)", $"elapsed {Figures.Duration(s.Elapsed)}"],
    };

    /// <summary>The alert of the result: Success when recovered, else Critical with the diagnosis.</summary>
    public static Alert ResultAlert(RecoveryResult result, string run, int startStep)
    {
        ArgumentNullException.ThrowIfNull(result);
        bool recovered = result.Outcome == RecoveryOutcome.Recovered;
        return new Alert
        {
            Kind = recovered ? AlertKind.Success : AlertKind.Critical,
            Run = run, Step = startStep + result.Steps, Time = DateTimeOffset.UtcNow,
            Title = recovered ? $"{run} recovered in {result.Steps} steps ({Figures.Minutes(result.Minutes)})" : $"{run}: recovery failed",
            Lines = new[]
            {
                $"Diagonality {Figures.Share(result.Diagonality)}, GateAccuracy {Figures.Share(result.GateAccuracy)}, Quality {Figures.Percent(result.Quality)}, LengthWithin10 {Figures.Share(result.LengthWithin10)}, StepLimitHits {result.StepLimitHits} ({result.Source} step {result.ValidationStep}, free-running)",
                $"Good checkpoint: {result.GoodCheckpoint ?? "none"}",
                result.Diagnosis ?? "",
            }.Where(l => l.Length > 0).ToArray(),
        };
    }
}
