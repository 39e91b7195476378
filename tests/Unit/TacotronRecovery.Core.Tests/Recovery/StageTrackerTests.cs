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

    /// <summary>A validation record (held-out sentences, free-running); every sentence ends within 10 % unless told.</summary>
    private static AlignmentMetrics Align(int step, double d, double gate, double quality, double within = 1.0, int hits = 0) => new()
    {
        Step = step, Time = T0.AddSeconds(0.5 * (step - 1000)), Source = "validation", Sentences = 10,
        Diagonality = d, GateAccuracy = gate, Quality = quality, LengthWithin10 = within, StepLimitHits = hits,
    };

    /// <summary>A training-batch (teacher-forced) record.</summary>
    private static AlignmentMetrics Train(int step, double d, double gate, double quality) => new()
    {
        Step = step, Time = T0.AddSeconds(0.5 * (step - 1000)), Source = "train", Diagonality = d, GateAccuracy = gate, Quality = quality,
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
        Assert.Equal("Done not reached (reached Stage1); unmet validation targets: GateAccuracy 60 % (target ≥ 80 %).", r.Diagnosis);
        Assert.Equal(["GateAccuracy 60 % (target ≥ 80 %)"], r.Unmet);
        Assert.StartsWith("exhausted. Done not reached", t.Result(null, 3, "exhausted").Diagnosis);
    }

    [Fact]
    public void Observe_TrainingBatchMeetsDoneValidationDoesNot_FailedNamingValidationTargets()
    {
        var t = new StageTracker(RecoveryPlan.Create(1, startStep: 0, run: "voice"), lossWindow: 10);
        var reached = new List<StageReached>();
        for (int s = 1; s <= 300; s++)
        {
            t.Observe(Step(s, 3.0 - s * 0.005));
            // Teacher-forced training batches look done (the demo's step-610 record of issue 14) …
            if (s % 10 == 0) reached.AddRange(t.Observe(Train(s, 0.89, 0.80, 82.9)));
            // … while free-running validation never stops: StopAccuracy 0, 2 of 10 within 10 %, 8 step-limit hits.
            if (s % 100 == 0)
                reached.AddRange(t.Observe(Align(s, 0.85, 0.62, 60.3, within: 0.2, hits: 8) with { StopAccuracy = 0, Run = "voice" }));
        }
        Assert.False(t.IsDone);
        Assert.DoesNotContain(reached, r => r.Stage == RecoveryStageId.Done);
        Assert.All(reached, r => Assert.Equal("validation", r.Source));
        Assert.Equal(0.89, t.LastTrain!.Diagonality);   // kept apart, for information

        var result = t.Result("good.ckpt", 0);
        Assert.Equal(RecoveryOutcome.Failed, result.Outcome);
        Assert.Equal("validation", result.Source);
        Assert.Equal(300, result.ValidationStep);
        Assert.Equal(0.62, result.GateAccuracy);       // the validation figures, not the last (train) record's
        Assert.Equal(60.3, result.Quality);
        Assert.Equal(8, result.StepLimitHits);
        Assert.Equal(
            ["GateAccuracy 62 % (target ≥ 80 %)", "Quality 60.3 % (target ≥ 70 %)", "LengthWithin10 20 % (target ≥ 90 %)", "StepLimitHits 8 of 10 (target ≤ 0)"],
            result.Unmet);
        Assert.Contains("Done not reached", result.Diagnosis);
        Assert.Contains("StepLimitHits 8 of 10", result.Diagnosis);
    }

    [Fact]
    public void Observe_OnlyTrainingRecords_NothingReached()
    {
        var t = new StageTracker(RecoveryPlan.Create(1), lossWindow: 5);
        for (int s = 1; s <= 50; s++)
        {
            t.Observe(Step(s, 1.0));
            Assert.Empty(t.Observe(Train(s, 0.95, 0.95, 95)));
        }
        Assert.Null(t.Reached);
        var r = t.Result(null, 0);
        Assert.Equal(RecoveryOutcome.Failed, r.Outcome);
        Assert.Null(r.ValidationStep);
        Assert.Equal(["no validation (free-running) record yet"], r.Unmet);
    }

    [Fact]
    public void Result_DoneThenFinalValidationMisses_Failed()
    {
        var t = new StageTracker(RecoveryPlan.Create(1), lossWindow: 5);
        for (int s = 1; s <= 20; s++) t.Observe(Step(s, 1.0));
        Assert.Equal(4, t.Observe(Align(20, 0.9, 0.9, 80)).Count);
        Assert.True(t.IsDone);
        t.Observe(Step(21, 1.0));
        t.Observe(Align(21, 0.9, 0.9, 80, within: 0.8)); // the state the engine stopped in
        var r = t.Result(null, 0);
        Assert.Equal(RecoveryOutcome.Failed, r.Outcome);
        Assert.StartsWith("Done was reached at step 20, but the final validation at step 21 misses it; unmet validation targets: LengthWithin10 80 %", r.Diagnosis);
    }
}
