namespace TacotronRecovery.Core.Contract;

/// <summary>
/// The names of the files and folders of a run directory, defined once; <see cref="Runs.RunDirectory"/> builds the
/// paths from them and docs/run-directory.md describes them (a test keeps that list in step).
/// </summary>
public static class RunFiles
{
    /// <summary>Effective config (secrets redacted).</summary>
    public const string Config = "config.yaml";
    /// <summary>Config written by Invoke-EmergencyRecovery for an imported PyTorch checkpoint (model dimensions from the file).</summary>
    public const string RecoveryConfig = "config.recovery.yaml";
    /// <summary>Run state: pid, status, started, step, exit code.</summary>
    public const string State = "run.json";
    /// <summary>One StepMetrics per step.</summary>
    public const string Metrics = "metrics.jsonl";
    /// <summary>AlignmentMetrics every N steps and at validation.</summary>
    public const string Alignment = "alignment.jsonl";
    /// <summary>TrainingEvent records.</summary>
    public const string Events = "events.jsonl";
    /// <summary>Human log.</summary>
    public const string TrainingLog = "training.log";
    /// <summary>Held by the one engine writing the run.</summary>
    public const string EngineLock = "engine.lock";
    /// <summary>Held by the supervisor of the run (pid, process start).</summary>
    public const string SupervisorLock = "supervisor.lock";
    /// <summary>The recovery controller's state: restarts, level, budgets (survives engine deaths).</summary>
    public const string RecoveryState = "recovery-state.json";
    /// <summary>A stop request, in force until the run has stopped.</summary>
    public const string StopRequest = "stop.request";
    /// <summary>Checkpoints folder (step-000500.ckpt and the manifest).</summary>
    public const string CheckpointsDir = "checkpoints";
    /// <summary>Checkpoint manifest, inside <see cref="CheckpointsDir"/>.</summary>
    public const string Manifest = "manifest.json";
    /// <summary>Attention and metrics plots.</summary>
    public const string PlotsDir = "plots";
    /// <summary>TensorBoard event files.</summary>
    public const string TensorBoardDir = "tensorboard";
    /// <summary>Alerts not (yet) sent.</summary>
    public const string OutboxDir = "outbox";
    /// <summary>Engine and supervisor output.</summary>
    public const string LogsDir = "logs";
    /// <summary>The detached supervisor's stdout and stderr, inside <see cref="LogsDir"/>.</summary>
    public const string SupervisorLog = "supervisor.log";
    /// <summary>External command (Start-TacotronTraining -Command): its argv, kept for restarts, -Resume and Invoke-EmergencyRecovery.</summary>
    public const string Command = "command.json";
    /// <summary>External command: the knobs the supervisor sets for every rank (written atomically; the adapter reads it when it changes).</summary>
    public const string Knobs = "knobs.json";
    /// <summary>External command: attention matrices the adapter writes (step-000500.json), scored by the supervisor into alignment.jsonl.</summary>
    public const string AttentionDir = "attention";
    /// <summary>External command: the supervisor's ledger of the command's checkpoints and their health at save, inside <see cref="CheckpointsDir"/>.</summary>
    public const string ExternalLedger = "external.json";

    /// <summary>The log of engine number <paramref name="n"/>'s <paramref name="stream"/> (stdout or stderr), inside <see cref="LogsDir"/>: <c>engine-3.stderr.log</c>.</summary>
    public static string EngineLog(int n, string stream) => $"engine-{n}.{stream}.log";

    /// <summary>Pattern of the engine logs inside <see cref="LogsDir"/>.</summary>
    public const string EngineLogPattern = "engine-*.log";

    /// <summary>The checkpoint file at <paramref name="step"/>: <c>step-000500.ckpt</c>.</summary>
    public static string Checkpoint(int step) => $"step-{step:D6}.ckpt";

    /// <summary>The attention plot at <paramref name="step"/>: <c>alignment-step-000500.png</c>.</summary>
    public static string AlignmentPlot(int step) => $"alignment-step-{step:D6}.png";

    /// <summary>Every fixed name above (files and folders), for the documentation check.</summary>
    public static IReadOnlyList<string> All { get; } = typeof(RunFiles)
        .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string) && f.Name != nameof(EngineLogPattern))
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToArray();
}
