using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Recovery;

namespace TacotronRecovery.Core.Tests.Recovery;

public sealed class StageTrackerTests
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static StepMetrics Step(int step, double recon, bool nan = false) => new()
    {
        Step = step,
        Time = T0.AddSeconds(0.5 * (step - 1000)),
        MelLoss = nan ? double.NaN : recon / 2,
        MelPostnetLoss = recon / 2 - 0.05,
        GateLoss = 0.05,
        GuidedAttentionLoss = 0.1,
        Loss = nan ? double.NaN : recon + 0.1,
        GradNorm = 1,
        Skipped = nan,
    };

    private static AlignmentMetrics Align(int step, double d, double gate, double quality) => new()
    {
        Step = step, Time = T0.AddSeconds(0.5 * (step - 1000)), Diagonality = d, GateAccuracy = gate, Quality = quality,
    };

    [Fact]
    public void Observe_RecoveringRun_StagesInOrderThenDone()
    {
        var plan = RecoveryPlan.Create(0.5, stepsScale: 0.1, startStep: 1000, run: "voice");
        var t = new StageTracker(plan, lossWindow: 20);
        var reached = new List<StageReached>();
        for (int s = 1000; s <= 1400; s++)
        {
            t.Observe(Step(s, 2.0 - (s - 1000) * 0.003));
            if (s % 20 == 0)
            {
                double x = (s - 1000) / 400.0; // 0 → 1
                reached.AddRange(t.Observe(Align(s, 0.05 + 0.8 * x, 0.5 + 0.4 * x, 20 + 55 * x)));
            }
        }
        Assert.Equal([RecoveryStageId.Stage1, RecoveryStageId.Stage2, RecoveryStageId.Stage3, RecoveryStageId.Done], reached.Select(r => r.Stage));
        // Diagonality 0.05 + 0.8x on a 20-step grid: > 0.10 at 1040; > 0.30 at 1140; > 0.70 (and Quality > 60) at 1340; Done needs Quality > 70: 1380.
        Assert.Equal([1040, 1140, 1340, 1380], reached.Select(r => r.Step));
        Assert.Equal([40, 140, 340, 380], reached.Select(r => r.StepsFromStart));
        Assert.Equal(TimeSpan.FromSeconds(20), reached[0].Elapsed);
        Assert.Equal([true, true, false, false], reached.Select(r => r.OnSchedule)); // forecasts 50, 200, 300, 300
        Assert.True(t.IsDone);
        Assert.Equal("voice", reached[0].Run);
        Assert.Equal(t.History, reached);
        Assert.Empty(t.Observe(Align(1420, 0.9, 0.95, 90))); // nothing after Done

        var result = t.Result("runs/voice/checkpoints/step-001400.ckpt", 7);
        Assert.Equal(RecoveryOutcome.Recovered, result.Outcome);
        Assert.Equal(420, result.Steps);
        Assert.Equal(3.5, result.Minutes, 6);
        Assert.Equal(0.9, result.Diagonality);
        Assert.Equal(7, result.Decisions);
        Assert.Null(result.Diagnosis);
        Assert.Equal("runs/voice/checkpoints/step-001400.ckpt", result.GoodCheckpoint);
    }

    [Fact]
    public void Observe_AllTargetsMetAtOnce_AllStagesInOneObservation()
    {
        var t = new StageTracker(RecoveryPlan.Create(1), lossWindow: 10);
        for (int s = 1; s <= 40; s++) t.Observe(Step(s, 3.0 - s * 0.05));
        var reached = t.Observe(Align(40, 0.85, 0.9, 80));
        Assert.Equal(4, reached.Count);
        Assert.All(reached, r => Assert.Equal(40, r.Step));
        Assert.Equal(1.1, reached[^1].Loss, 9); // last total: 3.0 − 2.0 + 0.1
    }

    [Fact]
    public void Observe_RecentNonFiniteLoss_BlocksStage1()
    {
        var t = new StageTracker(RecoveryPlan.Create(1), lossWindow: 10);
        for (int s = 1; s <= 20; s++) t.Observe(Step(s, 1.0, nan: s == 15));
        Assert.False(t.LossesFinite);
        Assert.Empty(t.Observe(Align(20, 0.5, 0.5, 40)));
        for (int s = 21; s <= 24; s++) t.Observe(Step(s, 1.0));
        Assert.Empty(t.Observe(Align(24, 0.5, 0.5, 40))); // step 15 still within the last 10
        for (int s = 25; s <= 25; s++) t.Observe(Step(s, 1.0));
        Assert.Equal(RecoveryStageId.Stage1, Assert.Single(t.Observe(Align(25, 0.5, 0.5, 40))).Stage);
    }

    [Fact]
    public void Observe_FlatLossAndGate_NotDoneAndFailedResult()
    {
        var t = new StageTracker(RecoveryPlan.Create(1), lossWindow: 10);
        for (int s = 1; s <= 100; s++)
        {
            t.Observe(Step(s, 1.0));
            if (s % 10 == 0) t.Observe(Align(s, 0.8, 0.6, 75));
        }
        Assert.Equal(RecoveryStageId.Stage1, t.Reached); // GateAccuracy flat at 60 %: not rising, below 80 %
        Assert.False(t.GateAccuracyRising);
        Assert.False(t.LossDecreasing);
        var r = t.Result(null, 0);
        Assert.Equal(RecoveryOutcome.Failed, r.Outcome);
        Assert.Equal("targets not met: reached Stage1; next: Diagonality > 30 %, GateAccuracy rising", r.Diagnosis);
        Assert.Equal("exhausted", t.Result(null, 3, "exhausted").Diagnosis);
    }
}
