using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Recovery;

namespace TacotronRecovery.Core.Tests.Recovery;

public class RecoveryEmergencyTests
{
    private static RecoveryController Create() =>
        new(new RecoveryOptions { AttentionWarmupSteps = 500 }, new TrainingOptions { LearningRate = 1e-3, GradClipThreshold = 1.0 }, new GuidedAttentionOptions { Weight = 2.0 });

    [Fact]
    public void OnEmergency_CollapsedAttention_RaisesSafeModeAndEntersCriticalBeforeWarmup()
    {
        var c = Create();
        var decisions = c.OnEmergency(100, "operator", 0.05);
        Assert.Equal(new[] { RecoveryAction.SafeModeEnter, RecoveryAction.AttentionCriticalEnter }, decisions.Select(d => d.Action));
        Assert.Equal(1, c.SafeModeLevel);
        Assert.True(c.AttentionCritical);
        var k = c.KnobsFor(1e-3);
        Assert.Equal(5e-4, k.LearningRate, 12);
        Assert.Equal(0.5, k.ClipThreshold, 12);
        Assert.Equal(10.0, k.GuidedAttentionWeight, 12);
        Assert.True(k.GuidedAttentionEnabled);
    }

    [Fact]
    public void OnEmergency_WellAligned_OnlyRaisesSafeMode()
    {
        var c = Create();
        var decisions = c.OnEmergency(3000, "operator", 0.8);
        Assert.Equal(RecoveryAction.SafeModeEnter, Assert.Single(decisions).Action);
        Assert.False(c.AttentionCritical);
    }

    [Fact]
    public void OnAlignment_CriticalModeBeforeWarmup_StillRaisesWithoutProgress()
    {
        var c = Create();
        c.OnEmergency(10, "operator", null);
        var first = c.OnAlignment(new AlignmentMetrics { Step = 70, Diagonality = 0.05 });
        var second = c.OnAlignment(new AlignmentMetrics { Step = 130, Diagonality = 0.05 });
        Assert.Contains(first.Concat(second), d => d.Action == RecoveryAction.GuidedAttentionRaise);
    }
}
