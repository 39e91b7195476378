using System.Text.Json;
using System.Text.Json.Nodes;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Core.Contract;

namespace TacotronRecovery.Core.Recovery;

/// <summary>
/// One decision of the recovery controller. Every decision becomes an event (<see cref="ToEvent"/>) and an object
/// in the pipeline: what, why, the evidence with numbers, and the knobs before and after.
/// </summary>
/// <param name="Step">Step the decision was taken at.</param>
/// <param name="Action">What to do.</param>
/// <param name="Reason">Why, in one sentence (for <see cref="RecoveryAction.Exhausted"/>: the diagnosis).</param>
/// <param name="Evidence">The numbers behind it (culture-invariant <c>key=value</c> pairs).</param>
/// <param name="Before">Knobs before the decision.</param>
/// <param name="After">Knobs after the decision (equal to <paramref name="Before"/> when no knob changes).</param>
/// <param name="SafeModeLevel">Safe-mode level after the decision.</param>
/// <param name="Target">For <see cref="RecoveryAction.Rollback"/> and <see cref="RecoveryAction.Restart"/>: which checkpoint to restore.</param>
public sealed record RecoveryDecision(
    int Step,
    RecoveryAction Action,
    string Reason,
    string Evidence,
    Knobs Before,
    Knobs After,
    int SafeModeLevel,
    RollbackTarget? Target = null)
{
    /// <summary>The stable event code of an action (the action's name, e.g. <c>Rollback</c>).</summary>
    public string Code => Action.ToString();

    /// <summary>Severity of the event this decision becomes.</summary>
    public EventSeverity Severity => Action switch
    {
        RecoveryAction.Rollback or RecoveryAction.AttentionCriticalEnter or RecoveryAction.ReinitializeAttention
            or RecoveryAction.Restart or RecoveryAction.Exhausted => EventSeverity.Critical,
        RecoveryAction.SkipStep or RecoveryAction.SafeModeEnter or RecoveryAction.GuidedAttentionRaise
            or RecoveryAction.HalveBatch => EventSeverity.Warning,
        _ => EventSeverity.Info,
    };

    /// <summary>
    /// The <c>events.jsonl</c> record of this decision: kind <c>Restart</c> for restarts, else <c>Recovery</c>; code = the
    /// action; data = action, reason, evidence, level, target, and the knobs before and after (snake_case).
    /// </summary>
    /// <param name="run">Run name.</param>
    /// <param name="time">Wall-clock time (passed in; the controller has no clock).</param>
    public TrainingEvent ToEvent(string? run, DateTimeOffset time)
    {
        var data = new JsonObject
        {
            ["action"] = Code,
            ["reason"] = Reason,
            ["evidence"] = Evidence,
            ["safe_mode_level"] = SafeModeLevel,
            ["before"] = JsonSerializer.SerializeToNode(Before, RunJson.Options),
            ["after"] = JsonSerializer.SerializeToNode(After, RunJson.Options),
        };
        if (Target is { } target) data["target"] = target.ToString();
        return new TrainingEvent
        {
            Run = run,
            Step = Step,
            Time = time,
            Kind = Action == RecoveryAction.Restart ? EventKinds.Restart : EventKinds.Recovery,
            Code = Code,
            Severity = Severity,
            Message = Reason,
            Data = data,
        };
    }
}
