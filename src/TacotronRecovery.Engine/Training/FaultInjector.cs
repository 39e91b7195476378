using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Engine.Training;

/// <summary>
/// Deliberate faults from the config's <c>faults</c> section, for tests and the demo. Each fault fires once per run:
/// fired faults are recorded in <c>faults.fired</c> in the run directory, so a restarted engine that replays the
/// fault's step does not fire it again.
/// </summary>
public sealed class FaultInjector
{
    private readonly FaultOptions _o;
    private readonly string _firedFile;
    private readonly HashSet<string> _fired;

    /// <summary>Creates the injector for a run directory.</summary>
    public FaultInjector(FaultOptions options, string runPath)
    {
        _o = options;
        _firedFile = Path.Combine(runPath, "faults.fired");
        _fired = File.Exists(_firedFile)
            ? new HashSet<string>(File.ReadAllLines(_firedFile).Where(l => l.Length > 0), StringComparer.Ordinal)
            : new HashSet<string>(StringComparer.Ordinal);
    }

    /// <summary>True when any fault is configured.</summary>
    public bool Any => _o.NanLossAtStep is not null || _o.LrExplosionAtStep is not null || _o.CorruptCheckpointAtStep is not null
        || _o.AttentionCollapseAtStep is not null || _o.KillAtStep is not null;

    /// <summary>The loss component to make NaN at this step, or null.</summary>
    public string? NanComponentAt(int step)
    {
        if (_o.NanLossAtStep is not int k || step < k || step >= k + Math.Max(1, _o.NanLossSteps)) return null;
        if (step == k && !Fire("nan_loss")) return null;
        if (step > k && !_fired.Contains("nan_loss")) return null;
        return _o.NanLossComponent;
    }

    /// <summary>Learning-rate factor at this step (the explosion lasts until <see cref="EndLrExplosion"/>).</summary>
    public double LearningRateFactor(int step)
    {
        if (_o.LrExplosionAtStep is not int k || step < k) return 1.0;
        if (step == k) Fire("lr_explosion");
        return _fired.Contains("lr_explosion") && !_fired.Contains("lr_explosion_ended") ? _o.LrExplosionFactor : 1.0;
    }

    /// <summary>A rollback ends the learning-rate explosion (the bad schedule was the fault, not the config).</summary>
    public void EndLrExplosion()
    {
        if (_fired.Contains("lr_explosion")) Fire("lr_explosion_ended");
    }

    /// <summary>True at the step where the newest checkpoint must be corrupted.</summary>
    public bool CorruptCheckpointAt(int step) => _o.CorruptCheckpointAtStep == step && Fire("corrupt_checkpoint");

    /// <summary>The collapse mode (reinit or zero) at the step where attention must collapse, or null.</summary>
    public string? AttentionCollapseAt(int step) => _o.AttentionCollapseAtStep == step && Fire("attention_collapse") ? _o.AttentionCollapseMode : null;

    /// <summary>True at the step where the engine must die without a checkpoint.</summary>
    public bool KillAt(int step) => _o.KillAtStep == step && (Fire("kill") || _o.KillEveryTime);

    private bool Fire(string name)
    {
        if (!_fired.Add(name)) return false;
        File.AppendAllLines(_firedFile, new[] { name });
        return true;
    }
}
