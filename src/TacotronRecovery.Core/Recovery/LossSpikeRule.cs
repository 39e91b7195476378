using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Core.Recovery;

/// <summary>
/// The one definition of a loss spike, used by the <see cref="RecoveryController"/> (which acts on it) and by
/// <see cref="Health.HealthAnalyzer"/> (Test-LossHealth, alerts), so both judge a run alike. The judged value is the
/// reconstruction loss, mel + postnet + gate: the guided-attention term changes with its weight (critical mode raises
/// it), and must neither cause nor hide a spike. A value is a spike when it exceeds <c>recovery.spike_factor</c> × the
/// median of the last <see cref="Window"/> non-spike values (judged once <see cref="MinimumSamples"/> are there); spike
/// values do not enter the median. A spike lasting <c>recovery.spike_persist_steps</c> steps is persistent: the
/// controller rolls back, the analyzer reports it Critical.
/// </summary>
public static class LossSpikeRule
{
    /// <summary>Finite values the rule needs before it judges (fewer if the window is smaller).</summary>
    public const int MedianSamples = 10;

    /// <summary>The judged value: mel + postnet + gate.</summary>
    public static double Value(double mel, double melPostnet, double gate) => mel + melPostnet + gate;

    /// <summary>Values needed before judging: min(<see cref="MedianSamples"/>, recovery.skip_window_steps), at least 1.</summary>
    public static int MinimumSamples(RecoveryOptions r) => Math.Max(1, Math.Min(MedianSamples, r.SkipWindowSteps));

    /// <summary>Values in the median: recovery.skip_window_steps, at least <see cref="MinimumSamples"/>.</summary>
    public static int Window(RecoveryOptions r) => Math.Max(MinimumSamples(r), r.SkipWindowSteps);

    /// <summary>True when <paramref name="value"/> is a spike against <paramref name="median"/> (NaN: not enough values yet).</summary>
    public static bool IsSpike(double value, double median, RecoveryOptions r) => median > 0 && value > r.SpikeFactor * median;

    /// <summary>True when a spike has lasted long enough to act on.</summary>
    public static bool IsPersistent(int spikeSteps, RecoveryOptions r) => spikeSteps >= r.SpikePersistSteps;
}
