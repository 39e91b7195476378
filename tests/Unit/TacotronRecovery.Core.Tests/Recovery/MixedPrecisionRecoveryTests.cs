using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Recovery;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Tests.Recovery;

/// <summary>
/// The controller's mixed-precision knob: safe mode switches it off and stepping down to level 0 switches it back on,
/// the events say what was on (with its dtype) and name nothing when it was off; fp16 gradient overflows are the loss
/// scaler's business until they persist.
/// </summary>
public sealed class MixedPrecisionRecoveryTests
{
    private const double Lr = 1e-3;

    private static RecoveryController Make(MixedPrecisionMode mode, RecoveryOptions? r = null) => new(
        r ?? new RecoveryOptions { CooldownSteps = 5, StableStepsToStepDown = 10 },
        new TrainingOptions { LearningRate = Lr, BatchSize = 16, MixedPrecision = mode },
        new GuidedAttentionOptions { Enabled = true });

    private static StepObservation Ok(int step) => new(step, 0.4, 0.35, 0.05, 0.2, 1.0, 0.8);

    private static StepObservation Nan(int step) => new(step, double.NaN, 0.35, 0.05, 0.2, double.NaN, double.NaN);

    // Finite losses, non-finite gradient norm, flagged by the trainer's loss scaler.
    private static StepObservation Overflow(int step) => new(step, 0.4, 0.35, 0.05, 0.2, 1.0, double.PositiveInfinity, GradientOverflow: true);

    private static List<RecoveryDecision> Steps(RecoveryController c, int from, int count, Func<int, StepObservation> make)
    {
        var all = new List<RecoveryDecision>();
        for (int s = from; s < from + count; s++) all.AddRange(c.OnStep(make(s), Lr));
        return all;
    }

    [Theory]
    [InlineData(MixedPrecisionMode.Bf16, "bf16")]
    [InlineData(MixedPrecisionMode.Fp16, "fp16")]
    public void SafeMode_MixedPrecisionOn_OffOnEnterBackOnAtLevelZero(MixedPrecisionMode mode, string name)
    {
        var c = Make(mode);
        Assert.True(c.Current.MixedPrecision);
        var ds = Steps(c, 1, 6, Nan);
        var enter = Assert.Single(ds, d => d.Action == RecoveryAction.SafeModeEnter);
        Assert.Contains($"mixed precision ({name}) off", enter.Reason);
        Assert.True(enter.Before.MixedPrecision);
        Assert.False(enter.After.MixedPrecision);
        Assert.False(c.Current.MixedPrecision);

        c.OnRollbackCompleted(6);
        var down = Assert.Single(Steps(c, 7, 10, Ok));
        Assert.Equal(RecoveryAction.SafeModeStepDown, down.Action);
        Assert.Equal(0, down.SafeModeLevel);
        Assert.EndsWith($"safe-mode level 1→0: mixed precision ({name}) back on.", down.Reason);
        Assert.False(down.Before.MixedPrecision);
        Assert.True(down.After.MixedPrecision);
        Assert.True(c.Current.MixedPrecision);
    }

    [Fact]
    public void SafeMode_MixedPrecisionOff_MessagesNameNoSwitch()
    {
        // Off in the config, or auto that the engine resolved to fp32 (it passes Off): nothing to switch, nothing said.
        var c = Make(MixedPrecisionMode.Off);
        Assert.False(c.Current.MixedPrecision);
        var enter = Assert.Single(Steps(c, 1, 6, Nan), d => d.Action == RecoveryAction.SafeModeEnter);
        Assert.DoesNotContain("mixed precision", enter.Reason);
        Assert.Equal("Safe-mode level 0→1: learning rate and clip threshold halved.", enter.Reason);
        c.OnRollbackCompleted(6);
        var down = Assert.Single(Steps(c, 7, 10, Ok));
        Assert.Equal("10 stable steps: safe-mode level 1→0.", down.Reason);
        Assert.False(c.Current.MixedPrecision);
    }

    [Fact]
    public void SafeMode_StepDownAboveZero_DoesNotClaimMixedPrecisionBack()
    {
        var c = Make(MixedPrecisionMode.Bf16, new RecoveryOptions { CooldownSteps = 0, StableStepsToStepDown = 10 });
        c.OnEmergency(0, "test", 0.9);
        c.OnEmergency(0, "test", 0.9);
        Assert.Equal(2, c.SafeModeLevel);
        var down = Assert.Single(Steps(c, 1, 10, Ok));
        Assert.Equal("10 stable steps: safe-mode level 2→1.", down.Reason);
        Assert.False(c.Current.MixedPrecision);
    }

    [Fact]
    public void Emergency_MixedPrecisionOn_SaysItGoesOff()
    {
        var c = Make(MixedPrecisionMode.Bf16);
        var enter = Assert.Single(c.OnEmergency(100, "operator", 0.9), d => d.Action == RecoveryAction.SafeModeEnter);
        Assert.Contains("mixed precision (bf16) off", enter.Reason);
        Assert.False(c.Current.MixedPrecision);
    }

    [Theory]
    [InlineData(MixedPrecisionMode.Off, false)]
    [InlineData(MixedPrecisionMode.Bf16, true)]
    public void Supervisor_AutoInConfig_UsesTheModeTheEngineResolved(MixedPrecisionMode resolved, bool on)
    {
        // The engine's controller (resolved mode) persists its state; the supervisor's (config says auto) reads it.
        var engine = Make(resolved);
        var json = System.Text.Json.JsonSerializer.Serialize(engine.State, RunJson.Options);
        var supervisor = new RecoveryController(new RecoveryOptions(), new TrainingOptions { MixedPrecision = MixedPrecisionMode.Auto },
            new GuidedAttentionOptions(), System.Text.Json.JsonSerializer.Deserialize<RecoveryState>(json, RunJson.Options));
        var restart = Assert.Single(supervisor.OnEngineRestart("exit code 134"));
        Assert.Equal(on, restart.Before.MixedPrecision);
        Assert.False(restart.After.MixedPrecision);
    }

    [Fact]
    public void Overflow_BelowPersistSteps_NoDecisionNoSkipCount()
    {
        var c = Make(MixedPrecisionMode.Fp16, new RecoveryOptions { OverflowPersistSteps = 4, MaxSkipsInWindow = 1 });
        for (int round = 0; round < 3; round++)
        {
            int from = 1 + round * 4;
            Assert.Empty(Steps(c, from, 3, Overflow)); // the scaler's business: no SkipStep, no rollback
            Assert.Empty(c.OnStep(Ok(from + 3), Lr)); // a finite step ends the streak
        }
        Assert.Empty(c.State.SkipTicks);
        Assert.Equal(0, c.State.OverflowStreak);
        Assert.Equal(0, c.State.Rollbacks);
    }

    [Fact]
    public void Overflow_Persisting_CountsAsNonFiniteThenRollbackAndFp16Off()
    {
        var c = Make(MixedPrecisionMode.Fp16, new RecoveryOptions { OverflowPersistSteps = 4, MaxSkipsInWindow = 2 });
        Assert.Empty(Steps(c, 1, 3, Overflow));
        var fourth = Assert.Single(c.OnStep(Overflow(4), Lr));
        Assert.Equal(RecoveryAction.SkipStep, fourth.Action);
        Assert.StartsWith("fp16 gradients overflowed 4 steps in a row", fourth.Reason);
        Assert.Contains("overflow_streak=4>=4", fourth.Evidence);
        Assert.Contains("grad_norm=∞", fourth.Evidence.Replace("Infinity", "∞"));

        var ds = Steps(c, 5, 2, Overflow);
        Assert.Equal([RecoveryAction.SkipStep, RecoveryAction.SkipStep, RecoveryAction.Rollback, RecoveryAction.SafeModeEnter], ds.Select(d => d.Action));
        Assert.Contains("mixed precision (fp16) off", ds[^1].Reason);
        Assert.False(c.Current.MixedPrecision);
    }

    [Fact]
    public void Overflow_WithNonFiniteLoss_IsANaNIncidentAtOnce()
    {
        // The scaler cannot help a loss that is already not finite (an fp16 forward overflow): a SkipStep at once.
        var c = Make(MixedPrecisionMode.Fp16);
        var skip = Assert.Single(c.OnStep(Nan(1) with { GradientOverflow = true }, Lr));
        Assert.Equal(RecoveryAction.SkipStep, skip.Action);
        Assert.StartsWith("Non-finite loss or gradient", skip.Reason);
    }

    [Fact]
    public void Overflow_StreakSurvivesStateRoundTrip()
    {
        var c = Make(MixedPrecisionMode.Fp16, new RecoveryOptions { OverflowPersistSteps = 3 });
        Steps(c, 1, 2, Overflow);
        var json = System.Text.Json.JsonSerializer.Serialize(c.State, RunJson.Options);
        var restored = new RecoveryController(new RecoveryOptions { OverflowPersistSteps = 3 }, new TrainingOptions { MixedPrecision = MixedPrecisionMode.Fp16 },
            new GuidedAttentionOptions(), System.Text.Json.JsonSerializer.Deserialize<RecoveryState>(json, RunJson.Options));
        Assert.Equal(RecoveryAction.SkipStep, Assert.Single(restored.OnStep(Overflow(3), Lr)).Action);
    }
}
