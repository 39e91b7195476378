using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Health;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Recovery;

namespace TacotronRecovery.Core.Tests.Health;

/// <summary>
/// Test-LossHealth (the analyzer) and the recovery controller read one set of thresholds with one meaning: given the
/// same run, the analyzer calls a spike persistent (Critical) exactly where the controller rolls back for it, and
/// attention Critical exactly where the controller enters attention critical mode.
/// </summary>
public class HealthAgreementTests
{
    private static readonly TrainingOptions Training = new() { LearningRate = 1e-3, GradClipThreshold = 1.0, BatchSize = 16 };
    private static readonly GuidedAttentionOptions Ga = new() { Enabled = true, Weight = 1.0, MaxMultiplier = 50 };

    private static StepObservation Observation(StepMetrics m) =>
        new(m.Step, m.MelLoss, m.MelPostnetLoss, m.GateLoss, m.GuidedAttentionLoss, m.Loss, m.GradNorm);

    /// <summary>Feeds both the run up to each step; returns the first step where the controller acted and where the analyzer turned Critical.</summary>
    private static (int? Controller, int? Analyzer) FirstCritical(RecoveryOptions r, IReadOnlyList<StepMetrics> steps, IReadOnlyList<AlignmentMetrics> aligns, RecoveryAction action, string code)
    {
        var controller = new RecoveryController(r, Training, Ga);
        var analyzer = new HealthAnalyzer(new HealthOptions(), r);
        int? byController = null, byAnalyzer = null;
        foreach (var m in steps)
        {
            var decisions = controller.OnStep(Observation(m), Training.LearningRate).ToList();
            analyzer.Add(m);
            foreach (var a in aligns.Where(a => a.Step == m.Step))
            {
                decisions.AddRange(controller.OnAlignment(a));
                analyzer.Add(a);
            }
            if (byController is null && decisions.Any(d => d.Action == action)) byController = m.Step;
            if (byAnalyzer is null && analyzer.GetReport().Findings.Any(f => f.Code == code && f.Severity == EventSeverity.Critical)) byAnalyzer = m.Step;
        }
        return (byController, byAnalyzer);
    }

    [Theory]
    [InlineData(3.0, 20, 100)]
    [InlineData(2.0, 5, 40)]
    [InlineData(4.0, 10, 100)]
    public void SameRun_PersistentSpike_AnalyzerCriticalWhereControllerRollsBack(double factor, int persist, int window)
    {
        var r = new RecoveryOptions { SpikeFactor = factor, SpikePersistSteps = persist, SkipWindowSteps = window };
        var steps = HealthAnalyzerTests.Healthy(1, 400);
        // Reconstruction loss × (factor + 1) from step 300 on; the total loss rises less (guided attention unchanged).
        for (int s = 300; s <= 400; s++)
        {
            var m = steps[s - 1];
            double k = factor + 1;
            steps[s - 1] = m with { MelLoss = m.MelLoss * k, MelPostnetLoss = m.MelPostnetLoss * k, GateLoss = m.GateLoss * k, Loss = m.Loss * k };
        }
        var (byController, byAnalyzer) = FirstCritical(r, steps, [], RecoveryAction.Rollback, HealthCodes.LossSpike);
        Assert.Equal(300 + persist - 1, byController);
        Assert.Equal(byController, byAnalyzer);
    }

    [Fact]
    public void SameRun_SpikeShorterThanPersist_NeitherActs()
    {
        var r = new RecoveryOptions();
        var steps = HealthAnalyzerTests.Healthy(1, 400);
        for (int s = 300; s < 300 + r.SpikePersistSteps - 1; s++)
        {
            var m = steps[s - 1];
            steps[s - 1] = m with { MelLoss = m.MelLoss * 5, MelPostnetLoss = m.MelPostnetLoss * 5, GateLoss = m.GateLoss * 5, Loss = m.Loss * 5 };
        }
        Assert.Equal((null, null), FirstCritical(r, steps, [], RecoveryAction.Rollback, HealthCodes.LossSpike));
    }

    [Theory]
    [InlineData(500, 0.2)]
    [InlineData(200, 0.35)]
    public void SameRun_LowDiagonality_AnalyzerCriticalWhereControllerEntersCriticalMode(int warmup, double critical)
    {
        var r = new RecoveryOptions { AttentionWarmupSteps = warmup, CriticalDiagonality = critical };
        var steps = HealthAnalyzerTests.Healthy(1, 1000);
        // Diagonality creeps up but stays below the critical level: low before and after the warm-up.
        var aligns = Enumerable.Range(1, 20).Select(k => HealthAnalyzerTests.Align(k * 50, critical * (0.5 + k * 0.02))).ToList();
        var (byController, byAnalyzer) = FirstCritical(r, steps, aligns, RecoveryAction.AttentionCriticalEnter, HealthCodes.AttentionNotForming);
        Assert.Equal(warmup, byController);
        Assert.Equal(byController, byAnalyzer);

        // Above the critical level after warm-up: neither acts.
        var fine = Enumerable.Range(1, 20).Select(k => HealthAnalyzerTests.Align(k * 50, critical + 0.05)).ToList();
        Assert.Equal((null, null), FirstCritical(r, steps, fine, RecoveryAction.AttentionCriticalEnter, HealthCodes.AttentionNotForming));
    }
}
