using TacotronRecovery.Core.Recovery;

namespace TacotronRecovery.Core.Tests.Recovery;

public sealed class RecoveryPlanTests
{
    [Fact]
    public void Create_Defaults_DesignStagesWithForecasts()
    {
        var plan = RecoveryPlan.Create(0.5, run: "voice");
        Assert.Equal([RecoveryStageId.Stage1, RecoveryStageId.Stage2, RecoveryStageId.Stage3, RecoveryStageId.Done], plan.Stages.Select(s => s.Stage));
        Assert.Equal([0, 500, 2000, 2000], plan.Stages.Select(s => s.FromStep));
        Assert.Equal([500, 2000, null, null], plan.Stages.Select(s => s.ToStep));
        Assert.Equal([500, 2000, 3000, 3000], plan.Stages.Select(s => s.ForecastSteps));
        Assert.Equal(TimeSpan.FromSeconds(250), plan[RecoveryStageId.Stage1].ForecastTime);
        Assert.Equal(TimeSpan.FromSeconds(1000), plan[RecoveryStageId.Stage2].ForecastTime);
        Assert.Equal(TimeSpan.FromSeconds(1500), plan.ForecastTime);
        Assert.Equal(3000, plan.ForecastSteps);
        Assert.Equal("losses finite, Diagonality > 10 %", plan[RecoveryStageId.Stage1].Target);
        Assert.Equal("Diagonality > 30 %, GateAccuracy rising", plan[RecoveryStageId.Stage2].Target);
        Assert.Equal("Diagonality > 70 %, Quality > 60 %", plan[RecoveryStageId.Stage3].Target);
        Assert.Equal("Diagonality ≥ 70 %, GateAccuracy ≥ 80 %, Quality ≥ 70 %, ≥ 90 % end within ±10 % of length, step-limit hits ≤ 0", plan[RecoveryStageId.Done].Target);
        Assert.Equal("voice", plan.Run);
    }

    [Fact]
    public void Create_ScaledAndOffset_BoundsFollow()
    {
        var plan = RecoveryPlan.Create(2.0, stepsScale: 0.1, startStep: 42_000);
        Assert.Equal([42_000, 42_050, 42_200, 42_200], plan.Stages.Select(s => s.FromStep));
        Assert.Equal([42_050, 42_200, null, null], plan.Stages.Select(s => s.ToStep));
        Assert.Equal([50, 200, 300, 300], plan.Stages.Select(s => s.ForecastSteps));
        Assert.Equal(TimeSpan.FromSeconds(600), plan.ForecastTime);

        var doubled = RecoveryPlan.Create(1.0, 2);
        Assert.Equal(6000, doubled.ForecastSteps);

        var custom = RecoveryPlan.Create(1.0, bounds: new RecoveryPlanBounds { Stage1EndStep = 10, Stage2EndStep = 20, Stage3EndStep = 30 });
        Assert.Equal([10, 20, 30, 30], custom.Stages.Select(s => s.ForecastSteps));
    }

    [Fact]
    public void Scale_TinyFactor_BoundsStayIncreasingAndPositive()
    {
        var b = new RecoveryPlanBounds().Scale(0.0001);
        Assert.Equal((1, 2, 3), (b.Stage1EndStep, b.Stage2EndStep, b.Stage3EndStep));
    }

    [Theory]
    [InlineData(double.NaN, 1.0, "secondsPerStep")]
    [InlineData(-1.0, 1.0, "secondsPerStep")]
    [InlineData(1.0, 0.0, "factor")]
    [InlineData(1.0, double.PositiveInfinity, "factor")]
    public void Create_BadArguments_ArgumentOutOfRange(double secondsPerStep, double scale, string parameter)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => RecoveryPlan.Create(secondsPerStep, scale));
        Assert.Equal(parameter, e.ParamName);
    }
}
