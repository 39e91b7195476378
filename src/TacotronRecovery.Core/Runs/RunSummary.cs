using TacotronRecovery.Core.Checkpoints;
using TacotronRecovery.Core.Metrics;

namespace TacotronRecovery.Core.Runs;

/// <summary>
/// One run at a glance (what Get-TacotronRun shows): state from run.json checked against the engine's pid, the
/// last step's loss, the last Diagonality, the number of checkpoints. The cmdlets' pipeline object
/// (TacotronRunInfo) is this record under its own type name.
/// </summary>
public record RunSummary
{
    /// <summary>Run name.</summary>
    public string Run { get; init; } = "";
    /// <summary>Run directory.</summary>
    public string Path { get; init; } = "";
    /// <summary>
    /// Status from run.json, except: Running or Recovering whose engine process is not alive on this host becomes
    /// "Failed (engine not running)"; no run.json is "Unknown (no run.json)"; another host's run gets " on &lt;host&gt;".
    /// </summary>
    public string Status { get; init; } = "";
    /// <summary>True when an engine process for the run is alive on this machine.</summary>
    public bool EngineAlive { get; init; }
    /// <summary>Engine pid recorded.</summary>
    public int? Pid { get; init; }
    /// <summary>Last step: the last line of metrics.jsonl, else run.json.</summary>
    public int Step { get; init; }
    /// <summary>Run start.</summary>
    public DateTimeOffset? Started { get; init; }
    /// <summary>Last update of run.json or metrics.jsonl, whichever is later.</summary>
    public DateTimeOffset? Updated { get; init; }
    /// <summary>Total loss of the last step.</summary>
    public double? LastLoss { get; init; }
    /// <summary>Diagonality of the last alignment measurement.</summary>
    public double? LastDiagonality { get; init; }
    /// <summary>Checkpoints in the manifest (or .ckpt files when there is no readable manifest); for an external command's run, in its ledger.</summary>
    public int Checkpoints { get; init; }
    /// <summary>Device.</summary>
    public string? Device { get; init; }
    /// <summary>Host running the engine.</summary>
    public string? Host { get; init; }
    /// <summary>run.json message.</summary>
    public string? Message { get; init; }
    /// <summary>The raw state, when run.json exists.</summary>
    public RunState? State { get; init; }

    /// <summary>
    /// The furthest step the run reached: run.json's step or the last metrics record, whichever is later (an engine that
    /// died between heartbeats left newer metrics than run.json). A corrupt run.json counts as none.
    /// </summary>
    public static int LastStep(RunDirectory run)
    {
        ArgumentNullException.ThrowIfNull(run);
        int fromState = 0;
        try { fromState = RunStateStore.TryRead(run.StateFile)?.Step ?? 0; } catch (RunDataException) { }
        return Math.Max(fromState, JsonLines.ReadLast<StepMetrics>(run.MetricsFile, 1).LastOrDefault()?.Step ?? 0);
    }

    /// <summary>
    /// Summarises <paramref name="run"/>. A corrupt run.json throws <see cref="RunDataException"/> RunStateCorrupt.
    /// </summary>
    public static RunSummary Read(RunDirectory run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var state = RunStateStore.TryRead(run.StateFile);
        var lastStep = JsonLines.ReadLast<StepMetrics>(run.MetricsFile, 1).LastOrDefault();
        var lastAlign = JsonLines.ReadLast<AlignmentMetrics>(run.AlignmentFile, 1).LastOrDefault();

        bool localHost = state is null || string.IsNullOrEmpty(state.Host) ||
                         string.Equals(state.Host, Environment.MachineName, StringComparison.OrdinalIgnoreCase);
        bool alive = state is not null && localHost && state.Pid > 0 && ProcessProbe.IsAlive(state.Pid, state.Updated);
        string status = state is null ? "Unknown (no run.json)"
            : !localHost ? $"{state.Status} on {state.Host}"
            : state.IsActive && !alive ? "Failed (engine not running)"
            : state.Status.ToString();

        DateTimeOffset? updated = state?.Updated;
        if (lastStep is not null && (updated is null || lastStep.Time > updated)) updated = lastStep.Time;

        return new RunSummary
        {
            Run = run.Name,
            Path = run.Path,
            Status = status,
            EngineAlive = alive,
            Pid = state?.Pid,
            Step = lastStep?.Step ?? state?.Step ?? 0,
            Started = state?.Started,
            Updated = updated,
            LastLoss = lastStep?.Loss,
            LastDiagonality = lastAlign?.Diagonality,
            Checkpoints = CountCheckpoints(run),
            Device = state?.Device,
            Host = state?.Host,
            Message = state?.Message,
            State = state,
        };
    }

    /// <summary>
    /// True while the run should be followed: no run.json yet, or Running/Recovering with its engine alive (an
    /// engine on another host is assumed alive).
    /// </summary>
    public static bool IsActive(RunDirectory run)
    {
        RunState? state;
        try { state = RunStateStore.TryRead(run.StateFile); }
        catch (RunDataException) { return true; } // being rewritten or damaged: do not stop a follow on it
        if (state is null) return true;
        if (!state.IsActive) return false;
        bool localHost = string.IsNullOrEmpty(state.Host) || string.Equals(state.Host, Environment.MachineName, StringComparison.OrdinalIgnoreCase);
        return !localHost || ProcessProbe.IsAlive(state.Pid, state.Updated);
    }

    /// <summary>
    /// True when an engine is writing the run now: run.json says Running or Recovering and its process is alive (an
    /// engine on another host is assumed alive). Unlike <see cref="IsActive"/>, a run without run.json is not running.
    /// </summary>
    public static bool IsEngineRunning(RunDirectory run)
    {
        RunState? state;
        try { state = RunStateStore.TryRead(run.StateFile); }
        catch (RunDataException) { return false; }
        return state is not null && IsActive(run);
    }

    private static int CountCheckpoints(RunDirectory run)
    {
        try
        {
            if (run.IsExternal) return ExternalCheckpointLedger.Load(run.ExternalLedgerFile).Entries.Count;
            if (File.Exists(run.ManifestFile)) return CheckpointManifest.Load(run.ManifestFile).Entries.Count;
        }
        catch (RunDataException) { }
        return Directory.Exists(run.CheckpointsDir) ? Directory.EnumerateFiles(run.CheckpointsDir, "*.ckpt").Count() : 0;
    }
}
