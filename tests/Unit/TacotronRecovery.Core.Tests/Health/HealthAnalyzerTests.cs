using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Health;
using TacotronRecovery.Core.Metrics;

namespace TacotronRecovery.Core.Tests.Health;

public class HealthAnalyzerTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>A healthy step stream: loss decaying with seeded noise, grad norm around 1, lr 1e-3.</summary>
    internal static List<StepMetrics> Healthy(int from, int count, int seed = 7, double lr = 1e-3)
    {
        var rng = new Random(seed);
        var list = new List<StepMetrics>(count);
        for (int s = from; s < from + count; s++)
        {
            double mel = 1.0 / Math.Sqrt(1 + s / 50.0) * (1 + 0.05 * (rng.NextDouble() - 0.5));
            list.Add(new StepMetrics
            {
                Run = "r1", Step = s, LearningRate = lr, MelLoss = mel, MelPostnetLoss = mel * 0.9, GateLoss = 0.05, GuidedAttentionLoss = 0.01,
                Loss = mel * 1.9 + 0.06, GradNorm = 1 + 0.2 * rng.NextDouble(), ClipThreshold = 1, BatchSize = 16, StepSeconds = 0.5,
            });
        }
        return list;
    }

    internal static AlignmentMetrics Align(int step, double diag, double gate = 0.9, double? stop = null, string source = "train", double? stall = null) => new()
    {
        Run = "r1", Step = step, Source = source, Diagonality = diag, GateAccuracy = gate, StopAccuracy = stop, Monotonicity = 0.97,
        FocusRate = 0.5, Coverage = 0.6, EndStallRate = stall, Quality = QualityScore.Compute(diag, gate, 0.97, stop),
    };

    private static HealthFinding Single(HealthReport r, string code) => Assert.Single(r.Findings, f => f.Code == code);

    [Fact]
    public void Analyze_HealthyRun_HealthyNoFindings()
    {
        var aligns = Enumerable.Range(1, 10).Select(k => Align(k * 100, 0.3 + k * 0.05, stop: 0.8));
        var r = HealthAnalyzer.Analyze(Healthy(1, 1000), aligns);
        Assert.Equal(HealthStatus.Healthy, r.Status);
        Assert.Empty(r.Findings);
        Assert.Equal(1, r.FirstStep);
        Assert.Equal(1000, r.LastStep);
        Assert.Equal(1000, r.StepsAnalyzed);
        Assert.Equal(10, r.AlignmentsAnalyzed);
        Assert.Equal(0.8, r.Diagonality!.Value, 9);
        Assert.Equal("r1", r.Run);
    }

    [Fact]
    public void Analyze_NaNStormInMel_CriticalWithComponentAndSteps()
    {
        var steps = Healthy(1, 300);
        for (int s = 200; s < 210; s++) steps[s - 1] = steps[s - 1] with { MelLoss = double.NaN, Loss = double.NaN, GradNorm = double.NaN, Skipped = true };
        var r = HealthAnalyzer.Analyze(steps);
        Assert.Equal(HealthStatus.Critical, r.Status);
        var f = Single(r, HealthCodes.NonFiniteLoss);
        Assert.Equal(EventSeverity.Critical, f.Severity);
        Assert.Equal((200, 209, 10), (f.FirstStep, f.LastStep, f.Count));
        Assert.Contains("mel_loss ×10", f.Evidence);
        Assert.Contains("loss ×10", f.Evidence);
        Assert.DoesNotContain("gate_loss", f.Evidence);
        Assert.Contains("learning rate", f.Recommendation);
        Assert.Contains("corrupt", f.Recommendation);
        // 10 skips in 100 steps ≥ 5.
        var skips = Single(r, HealthCodes.FrequentSkips);
        Assert.Equal(204, skips.FirstStep);
        // The NaN gradient is part of the loss incident, not a separate one.
        Assert.DoesNotContain(r.Findings, x => x.Code == HealthCodes.NonFiniteGradient);
    }

    [Fact]
    public void Analyze_NaNInMmiLoss_NamesTheMmiComponent()
    {
        var steps = Healthy(1, 300).Select(m => m with { MmiLoss = 1.2 }).ToList();
        for (int s = 200; s < 203; s++) steps[s - 1] = steps[s - 1] with { MmiLoss = double.NaN, Loss = double.NaN, GradNorm = double.NaN, Skipped = true };
        var f = Single(HealthAnalyzer.Analyze(steps), HealthCodes.NonFiniteLoss);
        Assert.Equal((200, 202, 3), (f.FirstStep, f.LastStep, f.Count));
        Assert.Contains("mmi_loss ×3", f.Evidence);
        Assert.DoesNotContain("mel_loss", f.Evidence);
    }

    [Fact]
    public void Analyze_OneIsolatedNaNRecovered_Warning()
    {
        var steps = Healthy(1, 300);
        steps[149] = steps[149] with { GateLoss = double.PositiveInfinity, Loss = double.PositiveInfinity, Skipped = true };
        var r = HealthAnalyzer.Analyze(steps);
        var f = Single(r, HealthCodes.NonFiniteLoss);
        Assert.Equal(EventSeverity.Warning, f.Severity);
        Assert.Equal(HealthStatus.Warning, r.Status);
        Assert.Contains("gate_loss ×1", f.Evidence);
    }

    [Fact]
    public void Analyze_NaNAtLastStep_Critical()
    {
        var steps = Healthy(1, 300);
        steps[^1] = steps[^1] with { GuidedAttentionLoss = double.NaN };
        Assert.Equal(EventSeverity.Critical, Single(HealthAnalyzer.Analyze(steps), HealthCodes.NonFiniteLoss).Severity);
    }

    [Fact]
    public void Analyze_NonFiniteGradientWithFiniteLoss_Reported()
    {
        var steps = Healthy(1, 300);
        steps[99] = steps[99] with { GradNorm = double.NaN };
        var f = Single(HealthAnalyzer.Analyze(steps), HealthCodes.NonFiniteGradient);
        Assert.Equal((100, 100, 1, EventSeverity.Warning), (f.FirstStep, f.LastStep, f.Count, f.Severity));
    }

    [Fact]
    public void Analyze_Fp16OverflowsTheScalerHandled_NotCountedAsNonFiniteGradientsOrSkips()
    {
        // fp16 starts with a large loss scale and halves it on each overflow: a run of scaler skips at the start is normal.
        var steps = Healthy(1, 300);
        for (int s = 1; s <= 12; s++) steps[s - 1] = steps[s - 1] with { GradNorm = double.PositiveInfinity, Skipped = true, LossScaleOverflow = true };
        steps[199] = steps[199] with { GradNorm = double.NaN, Skipped = true }; // one that persisted: the controller counted it

        var r = HealthAnalyzer.Analyze(steps);

        var f = Single(r, HealthCodes.NonFiniteGradient);
        Assert.Equal((200, 200, 1), (f.FirstStep, f.LastStep, f.Count));
        Assert.DoesNotContain(r.Findings, x => x.Code == HealthCodes.FrequentSkips);
    }

    [Fact]
    public void Analyze_GradientExplosion_RatioAgainstRollingMedian()
    {
        var steps = Healthy(1, 400);
        foreach (int s in new[] { 250, 260, 270 }) steps[s - 1] = steps[s - 1] with { GradNorm = 55 };
        var r = HealthAnalyzer.Analyze(steps);
        var f = Single(r, HealthCodes.GradientExplosion);
        Assert.Equal((250, 270, 3, EventSeverity.Critical), (f.FirstStep, f.LastStep, f.Count, f.Severity));
        Assert.Matches(@"worst \d\d\.\d×", f.Evidence);
        Assert.Contains("clip", f.Recommendation);
        // 9× the median is below the default factor 10.
        var mild = Healthy(1, 400);
        mild[299] = mild[299] with { GradNorm = 9.5 };
        Assert.DoesNotContain(HealthAnalyzer.Analyze(mild).Findings, x => x.Code == HealthCodes.GradientExplosion);
    }

    [Fact]
    public void Analyze_SingleLossSpike_WarningPersistentSpike_Critical()
    {
        // Judged on the reconstruction loss (mel + postnet + gate), like the recovery controller.
        static StepMetrics Spike(StepMetrics m, double k) => m with { Loss = m.Loss * k, MelLoss = m.MelLoss * k, MelPostnetLoss = m.MelPostnetLoss * k, GateLoss = m.GateLoss * k };
        var steps = Healthy(1, 400);
        steps[299] = Spike(steps[299], 5);
        var f = Single(HealthAnalyzer.Analyze(steps), HealthCodes.LossSpike);
        Assert.Equal((300, 1, EventSeverity.Warning), (f.FirstStep, f.Count, f.Severity));

        var persistent = Healthy(1, 400);
        for (int s = 300; s < 330; s++) persistent[s - 1] = Spike(persistent[s - 1], 6);
        var p = Single(HealthAnalyzer.Analyze(persistent), HealthCodes.LossSpike);
        Assert.Equal(EventSeverity.Critical, p.Severity);
        Assert.True(p.Count >= 20, $"{p.Count}");

        // A rise of the guided-attention term alone (critical mode raises its weight) is no spike.
        var guided = Healthy(1, 400);
        for (int s = 300; s < 330; s++) guided[s - 1] = guided[s - 1] with { Loss = guided[s - 1].Loss * 6, GuidedAttentionLoss = 5 };
        Assert.DoesNotContain(HealthAnalyzer.Analyze(guided).Findings, x => x.Code == HealthCodes.LossSpike);
    }

    [Fact]
    public void Analyze_FlatLoss_PlateauInfoKeepsHealthy()
    {
        var steps = Enumerable.Range(1, 4000).Select(s => new StepMetrics { Step = s, Loss = 0.5, MelLoss = 0.2, GradNorm = 1, LearningRate = 1e-3 }).ToList();
        var r = HealthAnalyzer.Analyze(steps);
        var f = Single(r, HealthCodes.Plateau);
        Assert.Equal(EventSeverity.Info, f.Severity);
        Assert.Equal(100 + 3000, f.FirstStep);
        Assert.Equal(HealthStatus.Healthy, r.Status);
        // A decaying loss has no plateau.
        Assert.DoesNotContain(HealthAnalyzer.Analyze(Healthy(1, 4000)).Findings, x => x.Code == HealthCodes.Plateau);
    }

    [Fact]
    public void Analyze_TinyLearningRateForLong_StalledLearner()
    {
        var r = HealthAnalyzer.Analyze(Healthy(1, 1500, lr: 5e-7));
        var f = Single(r, HealthCodes.StalledLearner);
        Assert.Equal((1000, 1500, EventSeverity.Warning), (f.FirstStep, f.LastStep, f.Severity));
        Assert.Contains("raise the learning rate", f.Recommendation);
        // Shorter than StalledSteps: nothing.
        Assert.Empty(HealthAnalyzer.Analyze(Healthy(1, 999, lr: 5e-7)).Findings);
    }

    [Fact]
    public void Analyze_AttentionNeverForms_CriticalNotForming()
    {
        var aligns = Enumerable.Range(1, 12).Select(k => Align(k * 100, 0.05));
        var r = HealthAnalyzer.Analyze(Healthy(1, 1200), aligns);
        var f = Single(r, HealthCodes.AttentionNotForming);
        Assert.Equal((500, 1200, 8, EventSeverity.Critical), (f.FirstStep, f.LastStep, f.Count, f.Severity));
        Assert.Contains("guided-attention weight", f.Recommendation);
        Assert.Contains("silences", f.Recommendation);
        Assert.Contains("transcripts", f.Recommendation);
        Assert.DoesNotContain(r.Findings, x => x.Code == HealthCodes.AttentionCollapse);
        Assert.Equal(HealthStatus.Critical, r.Status);
    }

    [Fact]
    public void Analyze_AttentionFormedThenCollapsed_CriticalCollapse()
    {
        var d = new[] { 0.2, 0.4, 0.6, 0.75, 0.8, 0.8, 0.4, 0.1, 0.05 };
        var aligns = d.Select((v, k) => Align((k + 1) * 100, v));
        var r = HealthAnalyzer.Analyze(Array.Empty<StepMetrics>(), aligns);
        var f = Single(r, HealthCodes.AttentionCollapse);
        Assert.Equal(EventSeverity.Critical, f.Severity);
        Assert.Equal((700, 900, 3), (f.FirstStep, f.LastStep, f.Count));
        Assert.Contains("80 %", f.Evidence);
    }

    [Fact]
    public void Analyze_CollapseThenRecoveredHigher_EvidenceNamesThePeakBeforeTheFallAndItsLowest()
    {
        var d = new[] { 0.3, 0.6, 0.8, 0.85, 0.85, 0.15, 0.12, 0.7, 0.95 };
        var aligns = d.Select((v, k) => Align((k + 1) * 100, v));
        var f = Single(HealthAnalyzer.Analyze(Array.Empty<StepMetrics>(), aligns), HealthCodes.AttentionCollapse);
        Assert.Equal(EventSeverity.Info, f.Severity);
        Assert.StartsWith("Diagonality fell from 85 % (step 400) to 12 % at 2 measurement(s)", f.Evidence);
        Assert.EndsWith("latest 95 %.", f.Evidence);
    }

    [Fact]
    public void Analyze_AttentionFallingButAbove20_Warning()
    {
        var aligns = new[] { 0.85, 0.85, 0.85, 0.85, 0.85, 0.5 }.Select((v, k) => Align((k + 1) * 100, v));
        var f = Single(HealthAnalyzer.Analyze(Array.Empty<StepMetrics>(), aligns), HealthCodes.AttentionCollapse);
        Assert.Equal((600, EventSeverity.Warning), (f.FirstStep, f.Severity));
    }

    [Fact]
    public void Analyze_AttentionLowThenRecovered_InfoOnly()
    {
        var aligns = new[] { 0.05, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.6 }.Select((v, k) => Align((k + 1) * 100, v));
        var r = HealthAnalyzer.Analyze(Array.Empty<StepMetrics>(), aligns);
        Assert.Equal(EventSeverity.Info, Single(r, HealthCodes.AttentionNotForming).Severity);
        Assert.Equal(HealthStatus.Healthy, r.Status);
    }

    [Fact]
    public void Analyze_ValidationRecordsDoNotDriveAttentionWhenTrainPresent()
    {
        var aligns = new List<AlignmentMetrics>();
        for (int k = 5; k <= 10; k++) { aligns.Add(Align(k * 100, 0.8)); aligns.Add(Align(k * 100, 0.1, stop: 0.7, source: "validation")); }
        var r = HealthAnalyzer.Analyze(Array.Empty<StepMetrics>(), aligns);
        Assert.Empty(r.Findings);
        Assert.Equal(0.8, r.Diagonality);
    }

    [Fact]
    public void Analyze_StopAccuracyZeroAfterGateWarmup_GateNeverFires()
    {
        var aligns = new[] { 1000, 2000, 2500 }.Select(s => Align(s, 0.8, gate: 0.5, stop: 0, source: "validation"));
        var f = Single(HealthAnalyzer.Analyze(Array.Empty<StepMetrics>(), aligns), HealthCodes.GateNeverFires);
        Assert.Equal((2000, 2500, 2, EventSeverity.Warning), (f.FirstStep, f.LastStep, f.Count, f.Severity));
        Assert.Contains("pos_weight", f.Recommendation);
        Assert.Contains("trailing silence", f.Recommendation);
    }

    [Fact]
    public void Analyze_GateAtChanceWithoutStopAccuracy_GateNeverFires()
    {
        var aligns = new[] { 2000, 2100 }.Select(s => Align(s, 0.8, gate: 0.5));
        Assert.Single(HealthAnalyzer.Analyze(Array.Empty<StepMetrics>(), aligns).Findings, x => x.Code == HealthCodes.GateNeverFires);
        var ok = new[] { 2000, 2100 }.Select(s => Align(s, 0.8, gate: 0.9));
        Assert.Empty(HealthAnalyzer.Analyze(Array.Empty<StepMetrics>(), ok).Findings);
    }

    [Fact]
    public void Analyze_EndStallRateHigh_Warning()
    {
        var aligns = new[] { 600, 700 }.Select(s => Align(s, 0.8, stall: 0.75));
        var f = Single(HealthAnalyzer.Analyze(Array.Empty<StepMetrics>(), aligns), HealthCodes.EndOfSentenceStall);
        Assert.Equal((600, 700, EventSeverity.Warning), (f.FirstStep, f.LastStep, f.Severity));
        Assert.Contains("75 %", f.Evidence);
    }

    [Fact]
    public void Analyze_ValidationStallRate_SynthesisStallWarningThenInfo()
    {
        // Free-running validation: a quarter of the sentences ended by the stall detector at 400 and 500, none at 600; a
        // measurement before gate warm-up (300 steps) does not count.
        AlignmentMetrics V(int step, double rate) => Align(step, 0.8, stop: 0.5, source: "validation") with { StallRate = rate };
        var o = new HealthOptions { GateWarmupSteps = 300 };
        var warm = HealthAnalyzer.Analyze(Array.Empty<StepMetrics>(), new[] { V(100, 0.5), V(400, 0.25), V(500, 0.25) }, o);
        var f = Single(warm, HealthCodes.SynthesisStall);
        Assert.Equal((400, 500, 2, EventSeverity.Warning), (f.FirstStep, f.LastStep, f.Count, f.Severity));
        Assert.Contains("25 %", f.Evidence);
        var cured = HealthAnalyzer.Analyze(Array.Empty<StepMetrics>(), new[] { V(400, 0.25), V(500, 0.25), V(600, 0) }, o);
        Assert.Equal(EventSeverity.Info, Single(cured, HealthCodes.SynthesisStall).Severity);
        var clean = HealthAnalyzer.Analyze(Array.Empty<StepMetrics>(), new[] { V(400, 0), V(500, 0) }, o);
        Assert.DoesNotContain(clean.Findings, x => x.Code == HealthCodes.SynthesisStall);
    }

    [Fact]
    public void Analyze_CustomThresholds_Applied()
    {
        var steps = Healthy(1, 400);
        steps[299] = steps[299] with { GradNorm = 4 };
        var r = HealthAnalyzer.Analyze(steps, null, new HealthOptions { GradExplosionFactor = 3 });
        Assert.Single(r.Findings, x => x.Code == HealthCodes.GradientExplosion);
    }

    [Fact]
    public void GetReport_Empty_HealthyZeroes()
    {
        var r = new HealthAnalyzer(run: "x").GetReport();
        Assert.Equal((HealthStatus.Healthy, 0, 0, 0, "x"), (r.Status, r.FirstStep, r.LastStep, r.StepsAnalyzed, r.Run));
        Assert.Null(r.Diagonality);
    }

    [Fact]
    public void Add_ManySteps_ConstantCostPerStep()
    {
        var a = new HealthAnalyzer();
        var steps = Healthy(1, 200_000);
        foreach (var s in steps.Take(10_000)) a.Add(s);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        foreach (var s in steps.Skip(10_000)) a.Add(s);
        sw.Stop();
        double usPerStep = sw.Elapsed.TotalMilliseconds * 1000 / 190_000;
        output.WriteLine($"{usPerStep:0.00} µs per step");
        Assert.True(usPerStep < 20, $"{usPerStep:0.00} µs per step");
    }
}
