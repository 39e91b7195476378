using System.Text.Json.Serialization;

namespace TacotronRecovery.Core.Runs;

/// <summary>Lifecycle state of a run as recorded in <c>run.json</c>.</summary>
public enum RunStatus
{
    /// <summary>An engine process is training it.</summary>
    Running,
    /// <summary>Stopped on request (Ctrl+C, Stop-TacotronTraining, SIGTERM) after a final checkpoint.</summary>
    Stopped,
    /// <summary>The engine ended with an error, or recovery was exhausted.</summary>
    Failed,
    /// <summary>An engine process is restoring a checkpoint or restarting after an incident.</summary>
    Recovering,
    /// <summary>Reached its step target.</summary>
    Completed,
    /// <summary>
    /// Killed by <c>Stop-TacotronTraining -Force</c> after it did not stop in time: no final checkpoint; a resume
    /// continues from the last good one.
    /// </summary>
    Killed,
}

/// <summary>
/// Contents of <c>run.json</c>: the state of one run, rewritten atomically by the engine at start, at every
/// checkpoint and status change, and on exit. JSON names are snake_case (<c>exit_code</c>).
/// </summary>
public sealed record RunState
{
    /// <summary>Run name.</summary>
    public string Name { get; init; } = "";
    /// <summary>Lifecycle state.</summary>
    public RunStatus Status { get; init; }
    /// <summary>Process id of the engine writing the run (0 when none).</summary>
    public int Pid { get; init; }
    /// <summary>Host name of the machine running the engine.</summary>
    public string Host { get; init; } = "";
    /// <summary>When the run (first) started.</summary>
    public DateTimeOffset Started { get; init; }
    /// <summary>When this state was written.</summary>
    public DateTimeOffset Updated { get; init; }
    /// <summary>Last optimizer step taken.</summary>
    public int Step { get; init; }
    /// <summary>Engine exit code, once it exited.</summary>
    public int? ExitCode { get; init; }
    /// <summary>One human sentence: why it stopped or failed, what recovery is doing.</summary>
    public string? Message { get; init; }
    /// <summary>Device trained on: cpu, cuda, cuda:1.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>True for <see cref="RunStatus.Running"/> and <see cref="RunStatus.Recovering"/>: an engine should be alive.</summary>
    [JsonIgnore]
    public bool IsActive => Status is RunStatus.Running or RunStatus.Recovering;
}
