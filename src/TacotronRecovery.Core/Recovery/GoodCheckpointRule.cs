using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Core.Recovery;

/// <summary>
/// When a checkpoint counts as Good — a rollback and restart target. The trainer measures; this rule decides.
/// At save: at least <see cref="FiniteStepsBeforeGood"/> finite steps in a row, no loss spike in progress
/// (<see cref="LossSpikeRule"/>), a finite last loss and finite weights. A scheduled checkpoint is Good only once
/// <c>recovery.spike_persist_steps</c> healthy steps have followed it (a fault that is not yet visible in the loss at
/// save time, such as a learning-rate explosion, shows as a spike only over the next steps); a skip, rollback or
/// restart, a spike, or a non-finite step before then means it was saved while the fault was under way: never Good.
/// </summary>
public static class GoodCheckpointRule
{
    /// <summary>Finite steps in a row a checkpoint needs before it can be Good.</summary>
    public const int FiniteStepsBeforeGood = 3;

    /// <summary>True when a checkpoint saved now is Good (or, when scheduled, Good once confirmed).</summary>
    /// <param name="consecutiveFiniteSteps">Finite steps in a row up to now.</param>
    /// <param name="lossSpiking">A loss spike is in progress (<see cref="RecoveryController.LossSpiking"/>).</param>
    /// <param name="lastLoss">The last finite-or-not total loss.</param>
    /// <param name="weightsFinite">Every parameter is finite (evaluated only when the rest holds).</param>
    public static bool IsGoodAtSave(int consecutiveFiniteSteps, bool lossSpiking, double lastLoss, Func<bool> weightsFinite)
    {
        ArgumentNullException.ThrowIfNull(weightsFinite);
        return consecutiveFiniteSteps >= FiniteStepsBeforeGood && !lossSpiking && double.IsFinite(lastLoss) && weightsFinite();
    }

    /// <summary>True when this step shows a fault that voids every checkpoint still waiting for confirmation.</summary>
    /// <param name="decisions">The controller's decisions at this step.</param>
    /// <param name="lossSpiking">A loss spike is in progress.</param>
    /// <param name="consecutiveFiniteSteps">Finite steps in a row up to now (0: this step was not finite).</param>
    public static bool VoidsPending(IEnumerable<RecoveryDecision> decisions, bool lossSpiking, int consecutiveFiniteSteps) =>
        lossSpiking || consecutiveFiniteSteps == 0
        || decisions.Any(d => d.Action is RecoveryAction.SkipStep or RecoveryAction.Rollback or RecoveryAction.Restart);

    /// <summary>Healthy steps after a scheduled checkpoint before it is confirmed Good: recovery.spike_persist_steps, at least 1.</summary>
    public static int ConfirmAfterSteps(RecoveryOptions r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return Math.Max(1, r.SpikePersistSteps);
    }

    /// <summary>True when a scheduled checkpoint saved at <paramref name="savedAt"/> is confirmed Good at <paramref name="step"/> (no fault voided it meanwhile).</summary>
    public static bool IsConfirmed(int savedAt, int step, RecoveryOptions r) => step - savedAt >= ConfirmAfterSteps(r);
}
