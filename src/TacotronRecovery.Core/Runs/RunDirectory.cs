using TacotronRecovery.Core.Contract;

namespace TacotronRecovery.Core.Runs;

/// <summary>
/// Layout of one run directory, the contract between the engine, the cmdlets and users' scripts (names in <see cref="RunFiles"/>):
/// <code>
/// runs/&lt;name&gt;/
///   config.yaml      effective config (secrets redacted)
///   run.json         state: pid, status, started, step
///   metrics.jsonl    one StepMetrics per step
///   alignment.jsonl  AlignmentMetrics every N steps and at validation
///   events.jsonl     TrainingEvent records
///   checkpoints/     step-000500.ckpt + manifest.json
///   plots/           alignment-step-000500.png, metrics.png
///   tensorboard/     event files
///   training.log     human log
///   outbox/          alerts not (yet) sent
///   logs/            engine-&lt;n&gt;.stderr.log (+ .stdout.log when detached), supervisor.log (detached runs)
///   engine.lock      held by the one engine writing the run
///   supervisor.lock  held by the supervisor of the run (pid, process start)
///   recovery-state.json  the recovery controller's state: restarts, level, budgets (survives engine deaths)
///   stop.request     a stop request, in force until the run has stopped
///   command.json, knobs.json, attention/, checkpoints/external.json   an external command's run (docs/scale-out-supervisor.md)
/// </code>
/// </summary>
public sealed class RunDirectory
{
    /// <summary>A run directory at <paramref name="path"/> (not created).</summary>
    public RunDirectory(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        Name = System.IO.Path.GetFileName(Path.TrimEnd(System.IO.Path.DirectorySeparatorChar));
    }

    /// <summary>Full path of the run directory.</summary>
    public string Path { get; }
    /// <summary>Run name (the folder name).</summary>
    public string Name { get; }
    /// <summary>Effective config (secrets redacted).</summary>
    public string ConfigFile => Combine(RunFiles.Config);
    /// <summary>Run state.</summary>
    public string StateFile => Combine(RunFiles.State);
    /// <summary>Step metrics.</summary>
    public string MetricsFile => Combine(RunFiles.Metrics);
    /// <summary>Alignment metrics.</summary>
    public string AlignmentFile => Combine(RunFiles.Alignment);
    /// <summary>Events.</summary>
    public string EventsFile => Combine(RunFiles.Events);
    /// <summary>Human log.</summary>
    public string LogFile => Combine(RunFiles.TrainingLog);
    /// <summary>Lock held by the engine writing this run.</summary>
    public string LockFile => Combine(RunFiles.EngineLock);
    /// <summary>Lock held by the supervisor of this run (the <c>supervise</c> verb), with its pid.</summary>
    public string SupervisorLockFile => Combine(RunFiles.SupervisorLock);
    /// <summary>The recovery controller's state (restarts, safe-mode level, budgets), written atomically.</summary>
    public string RecoveryStateFile => Combine(RunFiles.RecoveryState);
    /// <summary>Engine and supervisor output: <c>engine-&lt;n&gt;.stderr.log</c>, <c>supervisor.log</c>.</summary>
    public string LogsDir => Combine(RunFiles.LogsDir);
    /// <summary>Stop request: written by Stop-TacotronTraining; the engine checkpoints and stops within one step.</summary>
    public string StopRequestFile => Combine(RunFiles.StopRequest);

    /// <summary>
    /// Asks the engine writing this run to checkpoint and stop (portable: a file, not a signal). The request stays in
    /// force until the run has stopped: the supervisor never restarts an engine while it exists.
    /// </summary>
    public void RequestStop() => File.WriteAllText(StopRequestFile, "stop");

    /// <summary>True while a stop request is in force.</summary>
    public bool StopRequested => File.Exists(StopRequestFile);

    /// <summary>Removes the stop request (once the run has stopped, or a stale one when a new session starts).</summary>
    public void ClearStopRequest()
    {
        try { File.Delete(StopRequestFile); }
        catch (IOException) { }
    }
    /// <summary>Checkpoints folder.</summary>
    public string CheckpointsDir => Combine(RunFiles.CheckpointsDir);
    /// <summary>Checkpoint manifest.</summary>
    public string ManifestFile => System.IO.Path.Combine(CheckpointsDir, RunFiles.Manifest);
    /// <summary>Plots folder.</summary>
    public string PlotsDir => Combine(RunFiles.PlotsDir);
    /// <summary>TensorBoard folder.</summary>
    public string TensorBoardDir => Combine(RunFiles.TensorBoardDir);
    /// <summary>Unsent alerts.</summary>
    public string OutboxDir => Combine(RunFiles.OutboxDir);

    /// <summary>File name of the checkpoint at <paramref name="step"/>: <c>step-000500.ckpt</c>.</summary>
    public string CheckpointPath(int step) => System.IO.Path.Combine(CheckpointsDir, RunFiles.Checkpoint(step));

    /// <summary>File name of the attention plot at <paramref name="step"/>.</summary>
    public string AlignmentPlotPath(int step) => System.IO.Path.Combine(PlotsDir, RunFiles.AlignmentPlot(step));

    /// <summary>The detached supervisor's log.</summary>
    public string SupervisorLog => System.IO.Path.Combine(LogsDir, RunFiles.SupervisorLog);

    /// <summary>The external command's argv (a run started with Start-TacotronTraining -Command).</summary>
    public string CommandFile => Combine(RunFiles.Command);

    /// <summary>The knobs the supervisor sets for an external command's ranks.</summary>
    public string KnobsFile => Combine(RunFiles.Knobs);

    /// <summary>Attention matrices an external command's adapter writes for the supervisor to score.</summary>
    public string AttentionDir => Combine(RunFiles.AttentionDir);

    /// <summary>The supervisor's ledger of an external command's checkpoints.</summary>
    public string ExternalLedgerFile => System.IO.Path.Combine(CheckpointsDir, RunFiles.ExternalLedger);

    /// <summary>True for a run of an external command (it has command.json).</summary>
    public bool IsExternal => File.Exists(CommandFile);

    /// <summary>Config written for a recovery from an imported PyTorch checkpoint.</summary>
    public string RecoveryConfigFile => Combine(RunFiles.RecoveryConfig);

    /// <summary>
    /// The run a checkpoint belongs to (<c>runs/&lt;name&gt;/checkpoints/F.ckpt</c> whose run has a config.yaml), or null.
    /// </summary>
    public static RunDirectory? OwnerOf(string checkpoint)
    {
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(checkpoint));
        if (folder is null || !string.Equals(System.IO.Path.GetFileName(folder), RunFiles.CheckpointsDir, StringComparison.Ordinal)) return null;
        var run = new RunDirectory(System.IO.Path.GetDirectoryName(folder)!);
        return File.Exists(run.ConfigFile) ? run : null;
    }

    /// <summary>Creates the directory and its sub-folders.</summary>
    public RunDirectory Create()
    {
        foreach (var d in new[] { Path, CheckpointsDir, PlotsDir, TensorBoardDir, OutboxDir }) Directory.CreateDirectory(d);
        return this;
    }

    /// <summary>
    /// Deletes the temporary files that writers killed mid-write (kill -9, power loss) left in the run folder and in
    /// checkpoints/: <c>step-000500.ckpt.tmp-PID</c> and <c>.NAME.PID.GUID.tmp</c> (<see cref="AtomicFile"/>), each
    /// only when the process PID in its name no longer runs (a live supervisor may be writing run.json right now). The
    /// files they were to replace are whole: every writer renames its temp file over the target only when complete.
    /// Returns the names deleted.
    /// </summary>
    public IReadOnlyList<string> RemoveOrphanedTempFiles()
    {
        var removed = new List<string>();
        foreach (var dir in new[] { Path, CheckpointsDir })
        {
            if (!Directory.Exists(dir)) continue;
            foreach (var file in Directory.EnumerateFiles(dir))
            {
                var m = TempName.Match(System.IO.Path.GetFileName(file));
                if (!m.Success) continue;
                int pid = int.Parse(m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
                if (pid == Environment.ProcessId || ProcessProbe.IsAlive(pid)) continue;
                try
                {
                    File.Delete(file);
                    removed.Add(System.IO.Path.GetFileName(file));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
        }
        return removed;
    }

    private static readonly System.Text.RegularExpressions.Regex TempName =
        new(@"^(?:.+\.tmp-(\d{1,9})|\..+\.(\d{1,9})\.[0-9a-f]{32}\.tmp)$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    private string Combine(string file) => System.IO.Path.Combine(Path, file);
}
