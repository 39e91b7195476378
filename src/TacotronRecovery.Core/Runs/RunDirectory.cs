namespace TacotronRecovery.Core.Runs;

/// <summary>
/// Layout of one run directory, the contract between the engine, the cmdlets and users' scripts:
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
    public string ConfigFile => Combine("config.yaml");
    /// <summary>Run state.</summary>
    public string StateFile => Combine("run.json");
    /// <summary>Step metrics.</summary>
    public string MetricsFile => Combine("metrics.jsonl");
    /// <summary>Alignment metrics.</summary>
    public string AlignmentFile => Combine("alignment.jsonl");
    /// <summary>Events.</summary>
    public string EventsFile => Combine("events.jsonl");
    /// <summary>Human log.</summary>
    public string LogFile => Combine("training.log");
    /// <summary>Lock held by the engine writing this run.</summary>
    public string LockFile => Combine("engine.lock");
    /// <summary>Lock held by the supervisor of this run (the <c>supervise</c> verb), with its pid.</summary>
    public string SupervisorLockFile => Combine("supervisor.lock");
    /// <summary>The recovery controller's state (restarts, safe-mode level, budgets), written atomically.</summary>
    public string RecoveryStateFile => Combine("recovery-state.json");
    /// <summary>Engine and supervisor output: <c>engine-&lt;n&gt;.stderr.log</c>, <c>supervisor.log</c>.</summary>
    public string LogsDir => Combine("logs");
    /// <summary>Stop request: written by Stop-TacotronTraining; the engine checkpoints and stops within one step.</summary>
    public string StopRequestFile => Combine("stop.request");

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
    public string CheckpointsDir => Combine("checkpoints");
    /// <summary>Checkpoint manifest.</summary>
    public string ManifestFile => System.IO.Path.Combine(CheckpointsDir, "manifest.json");
    /// <summary>Plots folder.</summary>
    public string PlotsDir => Combine("plots");
    /// <summary>TensorBoard folder.</summary>
    public string TensorBoardDir => Combine("tensorboard");
    /// <summary>Unsent alerts.</summary>
    public string OutboxDir => Combine("outbox");

    /// <summary>File name of the checkpoint at <paramref name="step"/>: <c>step-000500.ckpt</c>.</summary>
    public string CheckpointPath(int step) => System.IO.Path.Combine(CheckpointsDir, $"step-{step:D6}.ckpt");

    /// <summary>File name of the attention plot at <paramref name="step"/>.</summary>
    public string AlignmentPlotPath(int step) => System.IO.Path.Combine(PlotsDir, $"alignment-step-{step:D6}.png");

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
