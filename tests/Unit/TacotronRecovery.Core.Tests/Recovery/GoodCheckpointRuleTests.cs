using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Recovery;

namespace TacotronRecovery.Core.Tests.Recovery;

public class GoodCheckpointRuleTests
{
    private static RecoveryDecision Decision(RecoveryAction action) => new(10, action, "r", "e", new Knobs(1e-3, 1, false, false, false, 1, 16), new Knobs(1e-3, 1, false, false, false, 1, 16), 0);

    [Theory]
    [InlineData(3, false, 1.0, true, true)]
    [InlineData(2, false, 1.0, true, false)]
    [InlineData(3, true, 1.0, true, false)]
    [InlineData(3, false, double.NaN, true, false)]
    [InlineData(3, false, 1.0, false, false)]
    public void IsGoodAtSave_NeedsFiniteRunNoSpikeFiniteLossAndWeights(int finite, bool spiking, double loss, bool weights, bool expected) =>
        Assert.Equal(expected, GoodCheckpointRule.IsGoodAtSave(finite, spiking, loss, () => weights));

    [Fact]
    public void IsGoodAtSave_WeightsCheckedOnlyWhenTheRestHolds()
    {
        bool checkedWeights = false;
        Assert.False(GoodCheckpointRule.IsGoodAtSave(0, false, 1.0, () => checkedWeights = true));
        Assert.False(checkedWeights);
    }

    [Fact]
    public void VoidsPending_SkipRollbackRestartSpikeOrNonFiniteStep()
    {
        Assert.False(GoodCheckpointRule.VoidsPending([Decision(RecoveryAction.SafeModeStepDown)], false, 5));
        Assert.True(GoodCheckpointRule.VoidsPending([Decision(RecoveryAction.SkipStep)], false, 5));
        Assert.True(GoodCheckpointRule.VoidsPending([Decision(RecoveryAction.Rollback)], false, 5));
        Assert.True(GoodCheckpointRule.VoidsPending([Decision(RecoveryAction.Restart)], false, 5));
        Assert.True(GoodCheckpointRule.VoidsPending([], true, 5));
        Assert.True(GoodCheckpointRule.VoidsPending([], false, 0));
    }

    [Fact]
    public void IsConfirmed_AfterSpikePersistSteps()
    {
        var r = new RecoveryOptions { SpikePersistSteps = 20 };
        Assert.False(GoodCheckpointRule.IsConfirmed(100, 119, r));
        Assert.True(GoodCheckpointRule.IsConfirmed(100, 120, r));
        Assert.Equal(1, GoodCheckpointRule.ConfirmAfterSteps(new RecoveryOptions { SpikePersistSteps = 0 }));
    }
}
