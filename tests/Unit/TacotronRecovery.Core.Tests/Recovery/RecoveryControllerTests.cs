using System.Text.Json;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Recovery;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Tests.Recovery;

public sealed class RecoveryControllerTests
{
    private const double Lr = 1e-3;

    private static readonly TrainingOptions Training = new()
    {
        LearningRate = Lr, GradClipThreshold = 1.0, BatchSize = 16, MixedPrecision = MixedPrecisionMode.Bf16, Mmi = true,
    };

    private static readonly GuidedAttentionOptions Ga = new() { Enabled = false, Weight = 1.0, MaxMultiplier = 50 };

    private static readonly Knobs Base = new(Lr, 1.0, true, true, false, 1.0, 16);

    private static RecoveryController Make(RecoveryOptions? r = null, TrainingOptions? t = null, GuidedAttentionOptions? g = null, RecoveryState? s = null) =>
        new(r ?? new RecoveryOptions(), t ?? Training, g ?? Ga, s);

    // Components scale with the total, so a spike shows in the reconstruction loss (mel + postnet + gate = 0.8 × total).
    private static StepObservation Ok(int step, double total = 1.0) => new(step, 0.4 * total, 0.35 * total, 0.05 * total, 0.2 * total, total, 0.8);

    private static StepObservation Nan(int step) => new(step, double.NaN, 0.35, 0.05, 0.2, double.NaN, double.NaN);

    private static AlignmentMetrics Align(int step, double diagonality) => new() { Step = step, Diagonality = diagonality, GateAccuracy = 0.5, Quality = 30 };

    private static List<RecoveryDecision> Steps(RecoveryController c, int from, int count, Func<int, StepObservation> make)
    {
        var all = new List<RecoveryDecision>();
        for (int s = from; s < from + count; s++) all.AddRange(c.OnStep(make(s), Lr));
        return all;
    }

    // Trainer-like loop: one OnStep per step, one OnAlignment every 50 steps; the total loss contains the guided
    // attention term with the weight the controller hands out (so raising the weight raises the loss).
    private static List<RecoveryDecision> Drive(RecoveryController c, int from, int to, Func<int, double> diagonality)
    {
        var all = new List<RecoveryDecision>();
        for (int s = from; s <= to; s++)
        {
            // Only the guided-attention term grows with the weight; the reconstruction losses stay put.
            all.AddRange(c.OnStep(new StepObservation(s, 0.4, 0.35, 0.05, 0.2, 0.8 + 0.2 * c.Current.GuidedAttentionWeight, 0.8), Lr));
            if (s % 50 == 0) all.AddRange(c.OnAlignment(Align(s, diagonality(s))));
        }
        return all;
    }

    private static RecoveryAction[] Actions(IEnumerable<RecoveryDecision> ds) => ds.Select(d => d.Action).ToArray();

    [Fact]
    public void OnStep_FiniteSteps_NoDecisionsAndBaseKnobs()
    {
        var c = Make();
        Assert.Empty(Steps(c, 1, 100, s => Ok(s)));
        Assert.Equal(Base, c.Current);
        Assert.Equal(0, c.SafeModeLevel);
        Assert.Equal("Normal", c.Mode);
    }

    [Fact]
    public void OnStep_SingleNaN_ExactlyOneSkipNoRollback()
    {
        var c = Make();
        var ds = Steps(c, 1, 50, s => Ok(s));
        ds.AddRange(c.OnStep(Nan(51), Lr));
        ds.AddRange(Steps(c, 52, 50, s => Ok(s)));
        var skip = Assert.Single(ds);
        Assert.Equal(RecoveryAction.SkipStep, skip.Action);
        Assert.Equal(51, skip.Step);
        Assert.Contains("mel=NaN", skip.Evidence);
        Assert.Contains("grad_norm=NaN", skip.Evidence);
        Assert.Contains("skips_in_window=1/5", skip.Evidence);
        Assert.Equal(skip.Before, skip.After);
        Assert.Equal(0, c.SafeModeLevel);
        Assert.Equal(Base, c.Current);
    }

    [Theory]
    [InlineData(double.PositiveInfinity, 1.0, "grad_norm=Infinity")]
    [InlineData(0.8, double.NegativeInfinity, "gate=-Infinity")]
    public void OnStep_OneNonFiniteComponent_SkipStep(double gradNorm, double gate, string evidence)
    {
        var c = Make();
        var d = Assert.Single(c.OnStep(new StepObservation(1, 0.4, 0.35, gate, 0.2, 1.0, gradNorm), Lr));
        Assert.Equal(RecoveryAction.SkipStep, d.Action);
        Assert.Contains(evidence, d.Evidence);
    }

    [Fact]
    public void OnStep_NaNStorm_SkipsThenExactlyOneRollbackLevelOneKnobsHalved()
    {
        var c = Make();
        var ds = Steps(c, 1, 20, s => Ok(s));
        ds.AddRange(Steps(c, 21, 40, Nan));
        Assert.Equal(40, ds.Count(d => d.Action == RecoveryAction.SkipStep));
        var rollback = Assert.Single(ds, d => d.Action == RecoveryAction.Rollback);
        Assert.Equal(26, rollback.Step); // the 6th skip exceeds 5 in the window
        Assert.Equal(RollbackTarget.LastGood, rollback.Target);
        Assert.Contains("skips_in_window=6>5", rollback.Evidence);
        int i = ds.IndexOf(rollback);
        Assert.Equal(RecoveryAction.SkipStep, ds[i - 1].Action);
        var enter = ds[i + 1];
        Assert.Equal(RecoveryAction.SafeModeEnter, enter.Action);
        Assert.Equal(1, enter.SafeModeLevel);
        Assert.Equal(Base, enter.Before);
        Assert.Equal(new Knobs(5e-4, 0.5, false, false, true, 1.0, 16), enter.After);

        // The trainer restores; the storm goes on within the cooldown: still one rollback.
        Assert.Empty(c.OnRollbackCompleted(20));
        ds.AddRange(Steps(c, 21, 10, Nan));
        Assert.Single(ds, d => d.Action == RecoveryAction.Rollback);
        Assert.Equal(1, c.SafeModeLevel);
        Assert.Equal(1, c.State.Rollbacks);
        Assert.Equal(new Knobs(5e-4, 0.5, false, false, true, 1.0, 16), c.Current);
        Assert.Equal("SafeMode", c.Mode);
    }

    [Fact]
    public void OnStep_StormEndsWithinCooldown_NoLateSecondRollback()
    {
        var c = Make();
        Steps(c, 1, 20, s => Ok(s));
        var ds = Steps(c, 21, 6, Nan);
        c.OnRollbackCompleted(20);
        ds.AddRange(Steps(c, 21, 14, Nan)); // 14 skips after the restore, all within the 50-step cooldown
        ds.AddRange(Steps(c, 35, 200, s => Ok(s)));
        Assert.Single(ds, d => d.Action == RecoveryAction.Rollback);
        Assert.Equal(1, c.SafeModeLevel);
    }

    [Fact]
    public void OnStep_NonFiniteWeights_SkipAndImmediateRollback()
    {
        var c = Make();
        Steps(c, 1, 20, s => Ok(s));
        var ds = c.OnStep(Ok(21) with { WeightsFinite = false }, Lr);
        Assert.Equal([RecoveryAction.SkipStep, RecoveryAction.Rollback, RecoveryAction.SafeModeEnter], Actions(ds));
        Assert.StartsWith("Non-finite weights", ds[1].Reason);
    }

    [Fact]
    public void OnStep_RepeatedStorms_LevelsClimbToMaxThenExhausted()
    {
        var c = Make();
        int step = 1;
        var levels = new List<int>();
        RecoveryDecision? exhausted = null;
        for (int storm = 0; storm < 7; storm++)
        {
            var ds = Steps(c, step, 6, Nan);
            step += 6;
            if (storm < 6)
            {
                Assert.Single(ds, d => d.Action == RecoveryAction.Rollback);
                levels.Add(c.SafeModeLevel);
                c.OnRollbackCompleted(step - 6);
                Assert.Empty(Steps(c, step, 60, s => Ok(s))); // past the cooldown, short of a step-down
                step += 60;
            }
            else
            {
                Assert.DoesNotContain(ds, d => d.Action == RecoveryAction.Rollback);
                exhausted = Assert.Single(ds, d => d.Action == RecoveryAction.Exhausted);
            }
        }
        Assert.Equal([1, 2, 3, 4, 4, 4], levels);
        Assert.NotNull(exhausted);
        Assert.True(c.IsExhausted);
        Assert.Contains("after 6 rollbacks", exhausted.Reason);
        Assert.Contains("rollbacks=6/6", exhausted.Evidence);
        Assert.Equal(exhausted.Reason, c.Diagnosis);

        // After Exhausted: only None, whatever comes in.
        Assert.Equal([RecoveryAction.None], Actions(c.OnStep(Nan(step), Lr)));
        Assert.Equal([RecoveryAction.None], Actions(c.OnStep(Ok(step + 1), Lr)));
        Assert.Equal([RecoveryAction.None], Actions(c.OnAlignment(Align(5000, 0.0))));
        Assert.Equal([RecoveryAction.None], Actions(c.OnEngineRestart("SIGKILL")));
        Assert.Equal([RecoveryAction.None], Actions(c.OnRollbackCompleted(10)));
    }

    [Fact]
    public void Current_MaxLevel_DefaultFloorsNotReached()
    {
        var c = Make(s: new RecoveryState { SafeModeLevel = 4, BatchSize = 16, ScheduledLearningRate = Lr });
        Assert.Equal(new Knobs(6.25e-5, 0.0625, false, false, true, 1.0, 16), c.Current);
    }

    [Fact]
    public void Current_HighLevels_FloorsRespectedAndNeverAboveSchedule()
    {
        var r = new RecoveryOptions { LearningRateFloor = 3e-4, ClipThresholdFloor = 0.3 };
        var c = Make(r, s: new RecoveryState { SafeModeLevel = 4, BatchSize = 16, ScheduledLearningRate = Lr });
        Assert.Equal(3e-4, c.Current.LearningRate);
        Assert.Equal(0.3, c.Current.ClipThreshold);
        Assert.Equal(1e-4, c.KnobsFor(1e-4).LearningRate); // a schedule already below the floor is not raised
        Assert.Equal(0.0, c.KnobsFor(0.0).LearningRate);

        var tiny = Make(new RecoveryOptions(), s: new RecoveryState { SafeModeLevel = 4, BatchSize = 16 });
        Assert.Equal(1e-7, tiny.KnobsFor(1e-6).LearningRate); // 1e-6 × 1/16 → floor 1e-7
    }

    [Fact]
    public void OnStep_StableStretch_StepsDownToZeroAndKnobsBackToBase()
    {
        var c = Make();
        int step = 1;
        for (int storm = 0; storm < 2; storm++)
        {
            Steps(c, step, 6, Nan);
            c.OnRollbackCompleted(step);
            step += 6;
            Steps(c, step, 60, s => Ok(s));
            step += 60;
        }
        Assert.Equal(2, c.SafeModeLevel);
        Assert.Equal(new Knobs(2.5e-4, 0.25, false, false, true, 1.0, 16), c.Current);

        // 60 stable steps already counted after the second storm; 240 more reach 300.
        var ds = Steps(c, step, 240, s => Ok(s));
        var down1 = Assert.Single(ds);
        Assert.Equal(RecoveryAction.SafeModeStepDown, down1.Action);
        Assert.Equal(step + 239, down1.Step);
        Assert.Equal(1, down1.SafeModeLevel);
        Assert.Equal(new Knobs(5e-4, 0.5, false, false, true, 1.0, 16), down1.After);
        Assert.Contains("stable_steps=300/300", down1.Evidence);
        step += 240;

        Assert.Empty(Steps(c, step, 299, s => Ok(s)));
        step += 299;
        var down2 = Assert.Single(c.OnStep(Ok(step), Lr));
        Assert.Equal(RecoveryAction.SafeModeStepDown, down2.Action);
        Assert.Equal(0, c.SafeModeLevel);
        Assert.Equal(Base, c.Current); // full speed again
        Assert.Equal(Base, down2.After);
        Assert.Empty(Steps(c, step + 1, 1000, s => Ok(s)));
    }

    [Fact]
    public void OnStep_SkipDuringStableStretch_RestartsTheCount()
    {
        var c = Make(s: new RecoveryState { SafeModeLevel = 1, BatchSize = 16, ScheduledLearningRate = Lr });
        Assert.Empty(Steps(c, 1, 299, s => Ok(s)));
        Assert.Single(c.OnStep(Nan(300), Lr));
        Assert.Empty(Steps(c, 301, 299, s => Ok(s)));
        Assert.Equal(RecoveryAction.SafeModeStepDown, Assert.Single(c.OnStep(Ok(600), Lr)).Action);
    }

    [Fact]
    public void OnStep_PersistentSpike_OneRollback()
    {
        var c = Make();
        var ds = Steps(c, 1, 30, s => Ok(s));
        ds.AddRange(Steps(c, 31, 25, s => Ok(s, 5.0)));
        Assert.Equal([RecoveryAction.Rollback, RecoveryAction.SafeModeEnter], Actions(ds));
        Assert.Equal(50, ds[0].Step); // the 20th spike step
        Assert.Equal(RollbackTarget.LastGood, ds[0].Target);
        Assert.Contains("median=0.8 ", ds[0].Evidence);
        Assert.Contains("spike_steps=20/20", ds[0].Evidence);
    }

    [Fact]
    public void OnStep_BriefSpikeOrBelowFactor_NoDecision()
    {
        var c = Make();
        var ds = Steps(c, 1, 30, s => Ok(s));
        ds.AddRange(Steps(c, 31, 19, s => Ok(s, 5.0)));
        ds.AddRange(Steps(c, 50, 30, s => Ok(s)));
        ds.AddRange(Steps(c, 80, 100, s => Ok(s, 2.9))); // below 3 × median
        Assert.Empty(ds);
    }

    [Fact]
    public void OnStep_OutOfMemory_HalvesBatchToFloorNeverBelow()
    {
        var c = Make(new RecoveryOptions { MaxSkipsInWindow = 100 });
        var ds = Steps(c, 1, 6, s => Ok(s) with { OutOfMemory = true });
        Assert.Equal(6, ds.Count(d => d.Action == RecoveryAction.SkipStep));
        var halves = ds.Where(d => d.Action == RecoveryAction.HalveBatch).ToArray();
        Assert.Equal([8, 4, 2], halves.Select(d => d.After.BatchSize));
        Assert.Equal([16, 8, 4], halves.Select(d => d.Before.BatchSize));
        Assert.Equal(2, c.Current.BatchSize);
        Assert.Equal(0, c.SafeModeLevel); // out-of-memory changes the batch, not the level

        var odd = Make(new RecoveryOptions { MaxSkipsInWindow = 100 }, Training with { BatchSize = 5 });
        odd.OnStep(Ok(1) with { OutOfMemory = true }, Lr);
        Assert.Equal(2, odd.Current.BatchSize);
        odd.OnStep(Ok(2) with { OutOfMemory = true }, Lr);
        Assert.Equal(2, odd.Current.BatchSize);
    }

    [Fact]
    public void OnAlignment_BeforeWarmup_Ignored()
    {
        var c = Make();
        Assert.Empty(c.OnAlignment(Align(499, 0.0)));
        Assert.False(c.AttentionCritical);
    }

    [Fact]
    public void OnAlignment_CollapseThenRecovery_EntersRaisesHoldsDecaysExits()
    {
        var c = Make();
        double D(int s) => s switch
        {
            <= 650 => 0.05,
            700 => 0.10, 750 => 0.20, 800 => 0.35,
            _ => 0.60,
        };
        var ds = Drive(c, 1, 1400, D);
        Assert.Equal(
            [
                RecoveryAction.AttentionCriticalEnter, RecoveryAction.GuidedAttentionRaise, RecoveryAction.GuidedAttentionRaise,
                RecoveryAction.GuidedAttentionDecay, RecoveryAction.GuidedAttentionDecay, RecoveryAction.GuidedAttentionDecay,
                RecoveryAction.GuidedAttentionDecay, RecoveryAction.GuidedAttentionDecay, RecoveryAction.AttentionCriticalExit,
            ],
            Actions(ds));
        Assert.Equal([500, 550, 600, 1050, 1100, 1150, 1200, 1250, 1300], ds.Select(d => d.Step));
        Assert.Equal([5.0, 25, 50, 25, 12.5, 6.25, 3.125, 1.5625, 1.0], ds.Select(d => d.After.GuidedAttentionWeight));
        Assert.All(ds, d => Assert.True(d.After.GuidedAttentionWeight <= 50));
        Assert.True(ds[0].After.GuidedAttentionEnabled); // forced on although the config disables it
        Assert.False(ds[^1].After.GuidedAttentionEnabled);
        Assert.Contains("held_steps=200/200", ds[3].Evidence);
        Assert.False(c.AttentionCritical);
        Assert.Equal(Base, c.Current);
        // Raising the weight raised the loss; that is not a spike to roll back from.
        Assert.DoesNotContain(ds, d => d.Action == RecoveryAction.Rollback);
    }

    [Fact]
    public void OnAlignment_DipBelowExitDuringDecay_HoldsWeight()
    {
        var c = Make();
        double D(int s) => s <= 600 ? 0.05 : s < 800 ? 0.05 + (s - 600) * 0.002 : s is 1150 ? 0.45 : 0.60;
        var ds = Drive(c, 1, 1500, D).Where(d => d.Action == RecoveryAction.GuidedAttentionDecay || d.Action == RecoveryAction.AttentionCriticalExit).ToList();
        // ×50 by 600; above 50 % from 800: decays at 1000, 1050, 1100; the dip at 1150 restarts the hold: 1400, 1450, exit 1500.
        Assert.Equal([1000, 1050, 1100, 1400, 1450, 1500], ds.Select(d => d.Step));
        Assert.Equal([25, 12.5, 6.25, 3.125, 1.5625, 1.0], ds.Select(d => d.After.GuidedAttentionWeight));
        Assert.Equal(RecoveryAction.AttentionCriticalExit, ds[^1].Action);
    }

    [Fact]
    public void OnAlignment_NoProgressWithinBudget_RollbackLastWellAlignedThenReinitialize()
    {
        var c = Make();
        var ds = Drive(c, 1, 1500, _ => 0.05);
        Assert.Equal(
            [
                RecoveryAction.AttentionCriticalEnter, RecoveryAction.GuidedAttentionRaise, RecoveryAction.GuidedAttentionRaise,
                RecoveryAction.Rollback, RecoveryAction.ReinitializeAttention,
            ],
            Actions(ds));
        Assert.Equal(RollbackTarget.LastWellAligned, ds[3].Target);
        Assert.Equal(1500, ds[3].Step);
        Assert.Contains("no_progress_steps=1000>=1000", ds[3].Evidence);
        Assert.Equal(1, c.State.Rollbacks);
        Assert.Equal(1, c.State.AttentionRetries);
        Assert.Equal(0, c.SafeModeLevel); // the attention ladder does not slow the learning rate
        Assert.Equal(50, c.Current.GuidedAttentionWeight);
    }

    [Fact]
    public void OnAlignment_AttentionRetriesSpent_Exhausted()
    {
        var c = Make();
        var ds = Drive(c, 1, 3600, _ => 0.05);
        Assert.Equal(2, ds.Count(d => d.Action == RecoveryAction.ReinitializeAttention));
        Assert.Equal([1500, 2500], ds.Where(d => d.Action == RecoveryAction.ReinitializeAttention).Select(d => d.Step));
        var ex = Assert.Single(ds, d => d.Action == RecoveryAction.Exhausted);
        Assert.Equal(3500, ex.Step);
        Assert.Contains("attention did not form after 2 re-initialisation(s)", ex.Reason);
        Assert.Contains("attention_retries=2/2", ex.Evidence);
        Assert.True(c.IsExhausted);
        Assert.All(ds.SkipWhile(d => d != ex).Skip(1), d => Assert.Equal(RecoveryAction.None, d.Action));
    }

    [Fact]
    public void OnEngineRestart_WithinBudget_RestartOneLevelHigherThenExhausted()
    {
        var c = Make();
        Steps(c, 1, 100, s => Ok(s));
        var restarts = Enumerable.Range(0, 3).Select(_ => Assert.Single(c.OnEngineRestart("exit code 134 (SIGABRT)"))).ToArray();
        Assert.All(restarts, d => Assert.Equal(RecoveryAction.Restart, d.Action));
        Assert.All(restarts, d => Assert.Equal(RollbackTarget.LastGood, d.Target));
        Assert.Equal([1, 2, 3], restarts.Select(d => d.SafeModeLevel));
        Assert.Equal(1e-3, restarts[0].Before.LearningRate);
        Assert.Equal(5e-4, restarts[0].After.LearningRate);
        Assert.Contains("restarts=0→1/3", restarts[0].Evidence);
        var ex = Assert.Single(c.OnEngineRestart("killed by the OOM killer"));
        Assert.Equal(RecoveryAction.Exhausted, ex.Action);
        Assert.Contains("died 4 times", ex.Reason);
        Assert.Contains("killed by the OOM killer", ex.Reason);
        Assert.True(c.IsExhausted);
    }

    [Fact]
    public void OnStep_RecoveryDisabled_SkipsButNeverRollsBack()
    {
        var c = Make(new RecoveryOptions { Enabled = false });
        var ds = Steps(c, 1, 20, s => Ok(s));
        ds.AddRange(Steps(c, 21, 40, Nan));
        Assert.Equal(40, ds.Count(d => d.Action == RecoveryAction.SkipStep));
        var report = Assert.Single(ds, d => d.Action == RecoveryAction.None);
        Assert.StartsWith("Recovery disabled:", report.Reason);
        Assert.Equal(0, c.SafeModeLevel);
        Assert.Equal([RecoveryAction.None], Actions(c.OnEngineRestart("killed")));
        Assert.False(c.IsExhausted);
    }

    [Fact]
    public void State_JsonRoundTrip_ControllerContinuesIdentically()
    {
        var a = Make();
        Scenario(a, 1, 700);
        string json = JsonSerializer.Serialize(a.State, RunJson.Options);
        Assert.Equal(1, a.SafeModeLevel); // up to 2 by step 305, down to 1 after 300 stable steps (619)
        Assert.Equal(2, a.State.Rollbacks);
        Assert.True(a.AttentionCritical);
        Assert.Contains("\"safe_mode_level\":1", json);
        Assert.Contains("\"attention_multiplier\":50", json);
        var restored = JsonSerializer.Deserialize<RecoveryState>(json, RunJson.Options)!;
        var b = Make(s: restored);
        Assert.Equal(a.Current, b.Current);
        Assert.Equal(JsonSerializer.Serialize(a.State), JsonSerializer.Serialize(b.State)); // default options too
        var da = Scenario(a, 701, 2000);
        var db = Scenario(b, 701, 2000);
        Assert.NotEmpty(da);
        Assert.Equal(da, db);
        Assert.Equal(a.Current, b.Current);
    }

    [Fact]
    public void OnStep_SameStream_SameDecisions()
    {
        var da = Scenario(Make(), 1, 2000);
        var db = Scenario(Make(), 1, 2000);
        Assert.True(da.Count >= 10);
        Assert.Equal(da, db);
    }

    [Fact]
    public void ToEvent_Rollback_CriticalRecoveryEventWithKnobs()
    {
        var c = Make();
        Steps(c, 1, 20, s => Ok(s));
        var d = c.OnStep(Ok(21) with { WeightsFinite = false }, Lr)[1];
        var e = d.ToEvent("voice", new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero));
        Assert.Equal("Recovery", e.Kind);
        Assert.Equal("Rollback", e.Code);
        Assert.Equal(EventSeverity.Critical, e.Severity);
        Assert.Equal(21, e.Step);
        Assert.Equal("voice", e.Run);
        Assert.Equal("LastGood", (string?)e.Data!["target"]);
        Assert.Equal(1e-3, (double)e.Data["before"]!["learning_rate"]!);
        Assert.Equal(16, (int)e.Data["after"]!["batch_size"]!);
        Assert.Equal("Restart", Make().OnEngineRestart("x")[0].ToEvent(null, default).Kind);
    }

    // A mixed stream: spike, NaN storm, collapse and recovery of attention, a restart.
    private static List<RecoveryDecision> Scenario(RecoveryController c, int from, int to)
    {
        var all = new List<RecoveryDecision>();
        for (int s = from; s <= to; s++)
        {
            var o = s is >= 100 and < 130 ? Ok(s, 9.0) : s is >= 300 and < 320 ? Nan(s)
                : new StepObservation(s, 0.4, 0.35, 0.05, 0.2, 0.8 + 0.2 * c.Current.GuidedAttentionWeight, 0.8);
            var ds = c.OnStep(o, s < 1000 ? Lr : Lr / 2);
            all.AddRange(ds);
            if (ds.Any(d => d.Action == RecoveryAction.Rollback)) c.OnRollbackCompleted(s);
            if (s % 50 == 0) all.AddRange(c.OnAlignment(Align(s, s < 900 ? 0.05 : 0.65)));
            if (s == 1200) all.AddRange(c.OnEngineRestart("SIGKILL"));
        }
        return all;
    }
}
