using System.Text.Json.Nodes;

namespace TacotronRecovery.Core.Metrics;

/// <summary>Severity of an event.</summary>
public enum EventSeverity
{
    /// <summary>Informational.</summary>
    Info,
    /// <summary>Needs attention.</summary>
    Warning,
    /// <summary>Training is at risk or stopped.</summary>
    Critical,
}

/// <summary>
/// Something that happened in a run (a line of <c>events.jsonl</c>): incidents, recovery decisions, restarts,
/// checkpoints, alerts sent or queued, start and stop. Kinds and codes are stable strings scripts can match.
/// </summary>
public sealed record TrainingEvent
{
    /// <summary>Run name.</summary>
    public string? Run { get; init; }
    /// <summary>Step at which it happened.</summary>
    public int Step { get; init; }
    /// <summary>Wall-clock time.</summary>
    public DateTimeOffset Time { get; init; }
    /// <summary>Started, Stopped, Completed, Incident, Recovery, Restart, Checkpoint, Validation, Alert, Warning.</summary>
    public string Kind { get; init; } = "";
    /// <summary>Stable code, e.g. NonFiniteLoss, GradientExplosion, Rollback, SafeModeEnter, AlertQueued.</summary>
    public string Code { get; init; } = "";
    /// <summary>Severity.</summary>
    public EventSeverity Severity { get; init; }
    /// <summary>One human sentence.</summary>
    public string Message { get; init; } = "";
    /// <summary>Evidence and parameters (free-form JSON object).</summary>
    public JsonObject? Data { get; init; }
}
