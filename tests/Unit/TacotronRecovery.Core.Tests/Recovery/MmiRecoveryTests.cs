using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Recovery;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Tests.Recovery;

/// <summary>MMI in the recovery controller and the metrics: the non-finite guard, safe mode's messages, old lines.</summary>
public sealed class MmiRecoveryTests
{
    private const double Lr = 1e-3;

    private static RecoveryController Make(bool mmi) => new(
        new RecoveryOptions { StableStepsToStepDown = 20, CooldownSteps = 0, MaxSkipsInWindow = 1 },
        new TrainingOptions { LearningRate = Lr, Mmi = mmi },
        new GuidedAttentionOptions());

    private static StepObservation Ok(int step, double? mmi = 1.5) => new(step, 0.4, 0.35, 0.05, 0.2, 1.0, 0.8, Mmi: mmi);

    [Fact]
    public void IsFinite_MmiNaN_FalseAndNamed()
    {
        var o = Ok(1, double.NaN);
        Assert.False(o.IsFinite);
        Assert.Equal(new[] { "mmi=NaN" }, o.NonFiniteComponents());
        Assert.True(Ok(1, null).IsFinite);
        Assert.True(Ok(1, 2.0).IsFinite);
        Assert.Empty(Ok(1, null).NonFiniteComponents());
    }

    [Fact]
    public void OnStep_MmiNonFinite_SkipStepNamingMmi()
    {
        var c = Make(mmi: true);
        var skip = Assert.Single(c.OnStep(Ok(1, double.PositiveInfinity), Lr));
        Assert.Equal(RecoveryAction.SkipStep, skip.Action);
        Assert.Contains("mmi=Infinity", skip.Evidence);
    }

    [Fact]
    public void SafeMode_MmiConfigured_OffOnEnterBackOnAtLevelZero()
    {
        var c = Make(mmi: true);
        Assert.True(c.Current.Mmi);
        var decisions = new List<RecoveryDecision>();
        int step = 1;
        // Two storms: level 0→1→2 (each: two skips in the window, so a rollback and a safe-mode raise).
        for (int storm = 0; storm < 2; storm++)
        {
            for (int i = 0; i < 2; i++) decisions.AddRange(c.OnStep(Ok(step++, double.NaN), Lr));
            c.OnRollbackCompleted(step);
            step += 20; // past the skip window
        }
        var enters = decisions.Where(d => d.Action == RecoveryAction.SafeModeEnter).ToList();
        Assert.Equal(2, enters.Count);
        Assert.Contains("MMI off", enters[0].Reason);
        Assert.True(enters[0].Before.Mmi);
        Assert.False(enters[0].After.Mmi);
        Assert.DoesNotContain("MMI", enters[1].Reason); // already off: nothing to claim
        Assert.False(c.Current.Mmi);

        var downs = new List<RecoveryDecision>();
        for (int i = 0; i < 60; i++) downs.AddRange(c.OnStep(Ok(step++, null), Lr));
        Assert.Equal(new[] { 1, 0 }, downs.Select(d => d.SafeModeLevel));
        Assert.DoesNotContain("MMI", downs[0].Reason); // level 2→1: still off
        Assert.False(downs[0].After.Mmi);
        Assert.EndsWith("safe-mode level 1→0: MMI back on.", downs[1].Reason);
        Assert.False(downs[1].Before.Mmi);
        Assert.True(downs[1].After.Mmi);
        Assert.True(c.Current.Mmi);
    }

    [Fact]
    public void SafeMode_MmiNotConfigured_NeverMentioned()
    {
        var c = Make(mmi: false);
        var decisions = new List<RecoveryDecision>();
        for (int i = 1; i <= 2; i++) decisions.AddRange(c.OnStep(Ok(i, null) with { Total = double.NaN }, Lr));
        c.OnRollbackCompleted(3);
        for (int i = 23; i < 60; i++) decisions.AddRange(c.OnStep(Ok(i, null), Lr));
        Assert.Contains(decisions, d => d.Action == RecoveryAction.SafeModeEnter);
        Assert.Contains(decisions, d => d.Action == RecoveryAction.SafeModeStepDown);
        Assert.All(decisions, d => Assert.DoesNotContain("MMI", d.Reason));
        Assert.All(decisions, d => Assert.False(d.After.Mmi));
    }

    [Fact]
    public void StepMetrics_MmiOmittedWhenOffAndOldLinesReadAsNull()
    {
        var off = System.Text.Json.JsonSerializer.Serialize(new StepMetrics { Step = 3, Loss = 1 }, RunJson.Options);
        Assert.DoesNotContain("mmi", off);
        var on = System.Text.Json.JsonSerializer.Serialize(new StepMetrics { Step = 3, Loss = 1, MmiLoss = 0.5, MmiFactor = 1 }, RunJson.Options);
        Assert.Contains("\"mmi_loss\":0.5", on);
        Assert.Contains("\"mmi_factor\":1", on);
        // A line written before MMI existed.
        const string old = "{\"run\":\"demo\",\"step\":7,\"loss\":2.5,\"mel_loss\":1,\"grad_norm\":0.7,\"skipped\":false,\"mode\":\"Normal\"}";
        var read = System.Text.Json.JsonSerializer.Deserialize<StepMetrics>(old, RunJson.Options)!;
        Assert.Equal(7, read.Step);
        Assert.Null(read.MmiLoss);
        Assert.Null(read.MmiFactor);
        var back = System.Text.Json.JsonSerializer.Deserialize<StepMetrics>(on, RunJson.Options)!;
        Assert.Equal(0.5, back.MmiLoss);
    }
}
