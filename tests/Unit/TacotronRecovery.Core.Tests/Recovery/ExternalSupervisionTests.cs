using TacotronRecovery.Core.Checkpoints;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Contract;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Recovery;
using TacotronRecovery.Core.Tests.Runs;

namespace TacotronRecovery.Core.Tests.Recovery;

public class ExternalSupervisionTests
{
    private static TacotronConfig Config() => new()
    {
        Recovery = new RecoveryOptions { SkipWindowSteps = 20, MaxSkipsInWindow = 2, SpikePersistSteps = 3, CooldownSteps = 5, MaxRestarts = 2 },
    };

    private static ExternalSupervision New() => new(Config(), "ext", null, new ExternalCheckpointLedger(), new FixedTime(RunsTestData.T0));

    private static StepMetrics Step(int step, bool nan = false, double lr = 0.001) => new()
    {
        Run = "ext", Step = step, LearningRate = lr, Loss = nan ? double.NaN : 0.5, MelLoss = nan ? double.NaN : 0.2,
        MelPostnetLoss = 0.2, GateLoss = 0.1, GradNorm = 1.5, ClipThreshold = 1, Skipped = nan, BatchSize = 4,
    };

    [Fact]
    public void Checkpoint_HealthyAtSave_PendingThenConfirmedAfterSpikePersistSteps()
    {
        var s = New();
        for (int i = 1; i <= 5; i++) s.OnStep(Step(i), true);
        var e = s.OnCheckpointSaved("/c/checkpoint_5", 5, "abc");
        Assert.Null(e.Good);
        Assert.Empty(s.OnStep(Step(6), true).Events);
        Assert.Empty(s.OnStep(Step(7), true).Events);
        var confirmed = s.OnStep(Step(8), true).Events.Single();
        Assert.Equal(EventCodes.CheckpointConfirmed, confirmed.Code);
        Assert.True(s.Ledger.Entries.Single().Good);
        Assert.True(s.TakeLedgerChange());
        Assert.False(s.TakeLedgerChange());
    }

    [Fact]
    public void Checkpoint_TooFewFiniteSteps_NotGood_FaultVoidsPending()
    {
        var s = New();
        s.OnStep(Step(1), true);
        Assert.False(s.OnCheckpointSaved("/c/1", 1, "abc").Good);
        Assert.Contains("Only 1 finite steps", s.Ledger.Entries[0].Note);
        for (int i = 2; i <= 5; i++) s.OnStep(Step(i), true);
        Assert.Null(s.OnCheckpointSaved("/c/5", 5, "abc").Good);
        s.OnStep(Step(6, nan: true), true);
        Assert.False(s.Ledger.Entries[1].Good);
        Assert.Contains("Voided at step 6", s.Ledger.Entries[1].Note);
        Assert.False(s.OnCheckpointSaved("/c/missing", 6, "").Good);
        Assert.False(s.OnCheckpointSaved("/c/stop", 6, "abc", "Saved while the command was stopping for a rollback.").Good);
    }

    [Fact]
    public void NanStorm_RollbackToLastGood_SafeModeKnobsHalveTheScriptsLearningRate_SkipsNotReportedAgain()
    {
        var s = New();
        Assert.Equal(new KnobsFile(), s.Knobs); // Normal: every knob null, the script runs as it would alone
        for (int i = 1; i <= 10; i++) s.OnStep(Step(i, lr: 0.002), true);
        var first = s.OnStep(Step(11, nan: true, lr: 0.002), true);
        Assert.Equal([RecoveryAction.SkipStep], first.Decisions.Select(d => d.Action));
        Assert.Empty(first.Events);
        s.OnStep(Step(12, nan: true, lr: 0.002), true);
        var storm = s.OnStep(Step(13, nan: true, lr: 0.002), true);
        Assert.NotNull(storm.Rollback);
        Assert.Equal(RollbackTarget.LastGood, storm.Rollback!.Target);
        Assert.Equal([EventCodes.Rollback, EventCodes.SafeModeEnter], storm.Events.Select(e => e.Code));
        var k = s.Knobs;
        Assert.Equal(1, k.SafeModeLevel);
        Assert.Equal(0.001, k.LearningRate!.Value, 12);
        Assert.Equal(0.5, k.ClipThreshold!.Value, 12);
        Assert.Equal("SafeMode", k.Mode);
        Assert.False(k.MixedPrecision);
        Assert.False(k.Mmi);
        Assert.True(k.GuidedAttentionEnabled);
        Assert.Equal(1.0, k.GuidedAttentionWeight);
        // In safe mode the steps run with the knobs' rate: it is not taken as the script's schedule.
        s.OnStep(Step(14, lr: 0.001), scriptLearningRate: false);
        Assert.Equal(0.001, s.Knobs.LearningRate!.Value, 12);
    }

    [Fact]
    public void Deaths_EscalateOneLevelEach_ThenExhausted_AsForTheEngine()
    {
        var s = New();
        var actions = Enumerable.Range(0, 3).Select(_ => s.Controller.OnEngineRestart("exit code 1").Single()).ToList();
        Assert.Equal([RecoveryAction.Restart, RecoveryAction.Restart, RecoveryAction.Exhausted], actions.Select(a => a.Action));
        Assert.Equal([1, 2], actions.Take(2).Select(a => a.SafeModeLevel));
    }

    [Fact]
    public void OnCleanExit_ConfirmsACheckpointAtTheLastStep_OnRestartVoidsPending()
    {
        var s = New();
        for (int i = 1; i <= 8; i++) s.OnStep(Step(i), true);
        s.OnCheckpointSaved("/c/6", 6, "abc");
        s.OnCheckpointSaved("/c/8", 8, "abc");
        var events = s.OnCleanExit();
        Assert.Equal("/c/8", events.Single().Data!["path"]!.GetValue<string>());
        Assert.Equal([null, true], s.Ledger.Entries.Select(e => e.Good));
        s.OnRestart("the command died");
        Assert.Equal([false, true], s.Ledger.Entries.Select(e => e.Good));
    }

    [Fact]
    public void Report_ReinitializeAttentionSaysItIsNotApplied()
    {
        var s = New();
        var k = s.Controller.Current;
        var events = s.Report([new RecoveryDecision(5, RecoveryAction.ReinitializeAttention, "Re-initialise.", "", k, k, 0), new RecoveryDecision(5, RecoveryAction.None, "x", "", k, k, 0)]);
        Assert.Contains("Not applied to an external command", events.Single().Message);
    }

    [Fact]
    public void KnobsFile_WriteNumbersVersions_NullsWritten_SameKnobsIgnoresVersion()
    {
        using var dir = new TempDir();
        var s = New();
        var file = dir.File("knobs.json");
        var first = KnobsFile.Write(file, s.Knobs);
        Assert.Equal(1, first.Version);
        Assert.Contains("\"learning_rate\":null", File.ReadAllText(file));
        Assert.Contains("\"skip_nonfinite\":true", File.ReadAllText(file));
        var second = KnobsFile.Write(file, s.Knobs);
        Assert.Equal(2, second.Version);
        Assert.True(first.SameKnobs(second));
        Assert.Equal(second, KnobsFile.TryRead(file));
        Assert.False(first.SameKnobs(first with { SafeModeLevel = 1 }));
    }
}

public class ExternalSupervisionAttentionTests
{
    [Fact]
    public void AttentionCollapse_CriticalModeRaisesTheGuidedAttentionWeightInTheKnobs_LearningRateStaysTheScripts()
    {
        var config = new TacotronConfig { Recovery = new RecoveryOptions { AttentionWarmupSteps = 10 }, GuidedAttention = new GuidedAttentionOptions { Weight = 2.0 } };
        var s = new ExternalSupervision(config, "ext", null, new ExternalCheckpointLedger(), new FixedTime(RunsTestData.T0));
        Assert.Empty(s.OnAlignment(new AlignmentMetrics { Step = 5, Diagonality = 0.05 }).Decisions); // warm-up
        var update = s.OnAlignment(new AlignmentMetrics { Step = 20, Diagonality = 0.05 });
        Assert.Equal([EventCodes.AttentionCriticalEnter], update.Events.Select(e => e.Code));
        var k = s.Knobs;
        Assert.Equal("AttentionCritical", k.Mode);
        Assert.Equal(0, k.SafeModeLevel);
        Assert.True(k.GuidedAttentionEnabled);
        Assert.Equal(10.0, k.GuidedAttentionWeight!.Value, 12); // 2 × 5
        Assert.Null(k.LearningRate);
        Assert.Null(k.MixedPrecision);
        Assert.Equal(0.05, s.LastDiagonality);
    }
}
