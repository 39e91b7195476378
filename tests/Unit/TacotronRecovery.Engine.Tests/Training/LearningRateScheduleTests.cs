using TacotronRecovery.Core.Config;
using TacotronRecovery.Engine.Training;

namespace TacotronRecovery.Engine.Tests.Training;

public class LearningRateScheduleTests
{
    [Fact]
    public void At_Constant_IsThePeakRate()
    {
        var o = new TrainingOptions { LearningRate = 2e-3 };
        Assert.Equal(2e-3, LearningRateSchedule.At(o, 1));
        Assert.Equal(2e-3, LearningRateSchedule.At(o, 1_000_000));
    }

    [Fact]
    public void At_WarmupDecay_RisesLinearlyThenHalvesPerPeriodDownToTheFloor()
    {
        var o = new TrainingOptions
        {
            LrSchedule = "warmup_decay", LearningRate = 1e-3, WarmupSteps = 100, DecayStartStep = 1000,
            DecayRate = 0.5, DecayEverySteps = 1000, MinLearningRate = 1e-4,
        };
        Assert.Equal(1e-5, LearningRateSchedule.At(o, 1), 12);
        Assert.Equal(5e-4, LearningRateSchedule.At(o, 50), 12);
        Assert.Equal(1e-3, LearningRateSchedule.At(o, 500), 12);
        Assert.Equal(5e-4, LearningRateSchedule.At(o, 2000), 12);
        Assert.Equal(2.5e-4, LearningRateSchedule.At(o, 3000), 12);
        Assert.Equal(1e-4, LearningRateSchedule.At(o, 100_000), 12);
    }
}
