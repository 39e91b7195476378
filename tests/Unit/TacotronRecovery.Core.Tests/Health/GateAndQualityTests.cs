using TacotronRecovery.Core.Health;
using Xunit.Abstractions;
using static TacotronRecovery.Core.Tests.Health.SyntheticAlignments;

namespace TacotronRecovery.Core.Tests.Health;

public class GateMetricsTests
{
    // Two utterances, 6 padded frames: lengths 5 and 4; stop target on the last valid frame (and beyond, as NVIDIA pads).
    private static readonly float[] Targets = [0, 0, 0, 0, 1, 1, /**/ 0, 0, 0, 1, 1, 1];
    private static readonly int[] Lengths = [5, 4];

    [Fact]
    public void BalancedAccuracy_NeverStops_IsHalf()
    {
        var logits = Enumerable.Repeat(-5f, 12).ToArray();
        Assert.Equal(0.5, GateMetrics.BalancedAccuracy(logits, Targets, Lengths), 9);
    }

    [Fact]
    public void BalancedAccuracy_Perfect_IsOne()
    {
        float[] logits = [-3, -3, -3, -3, 3, 99, /**/ -3, -3, -3, 3, -99, -99];
        Assert.Equal(1.0, GateMetrics.BalancedAccuracy(logits, Targets, Lengths), 9);
    }

    [Fact]
    public void BalancedAccuracy_OneStopMissedOneFalseStop_MeanOfRecalls()
    {
        // Stops: 2 positives, 1 found → 0.5. Continues: 7 negatives, 1 false stop → 6/7.
        float[] logits = [-3, 2, -3, -3, 3, 0, /**/ -3, -3, -3, -1, 0, 0];
        Assert.Equal(0.5 * (0.5 + 6.0 / 7), GateMetrics.BalancedAccuracy(logits, Targets, Lengths), 9);
    }

    [Fact]
    public void BalancedAccuracy_PaddingFramesIgnored()
    {
        float[] logits = [-3, -3, -3, -3, 3, -50, /**/ -3, -3, -3, 3, -50, -50];
        Assert.Equal(1.0, GateMetrics.BalancedAccuracy(logits, Targets, Lengths), 9);
    }

    [Fact]
    public void BalancedAccuracy_BadShapes_Throw()
    {
        Assert.Throws<ArgumentException>(() => GateMetrics.BalancedAccuracy(new float[12], new float[11], Lengths));
        Assert.Throws<ArgumentException>(() => GateMetrics.BalancedAccuracy(new float[11], new float[11], Lengths));
        Assert.Throws<ArgumentOutOfRangeException>(() => GateMetrics.BalancedAccuracy(new float[12], new float[12], new[] { 7, 1 }));
        Assert.Throws<ArgumentException>(() => GateMetrics.BalancedAccuracy(new float[12], new float[12], new[] { 0, 0 }));
    }

    [Theory]
    [InlineData(40, 40, true, true)]
    [InlineData(43, 40, true, true)]     // ±3 steps (5 % of 40 is only 2)
    [InlineData(44, 40, true, false)]
    [InlineData(36, 40, true, false)]
    [InlineData(420, 400, true, true)]   // ±5 % of 400 = 20
    [InlineData(421, 400, true, false)]
    [InlineData(400, 400, false, false)] // attention did not reach the end
    [InlineData(null, 400, true, false)] // never fired
    public void StopsCorrectly_Tolerance_Max3StepsOr5Percent(int? predicted, int truth, bool reached, bool expected) =>
        Assert.Equal(expected, GateMetrics.StopsCorrectly(predicted, truth, reached));

    [Fact]
    public void StopAccuracy_Mixed_ShareCorrect()
    {
        var acc = GateMetrics.StopAccuracy(new int?[] { 100, null, 250, 90 }, new[] { 101, 200, 251, 120 }, new[] { true, true, false, true });
        Assert.Equal(0.25, acc);
        Assert.Throws<ArgumentException>(() => GateMetrics.StopAccuracy(new int?[] { 1 }, new[] { 1, 2 }, new[] { true }));
    }
}

public class LengthAndFreeRunningGateTests
{
    [Theory]
    [InlineData(100, 100, true)]
    [InlineData(110, 100, true)]
    [InlineData(90, 100, true)]
    [InlineData(111, 100, false)]
    [InlineData(89, 100, false)]
    [InlineData(null, 100, false)]   // never stopped (step limit)
    [InlineData(0, 100, false)]
    public void LengthWithin_TenPercentOfTrueFrames(int? predicted, int truth, bool expected) =>
        Assert.Equal(expected, GateMetrics.LengthWithin(predicted, truth));

    [Fact]
    public void FreeRunning_StopsExactlyAtTrueEnd_IsOne()
    {
        // True length 5 steps: steps 0..3 continue, step 4 stops.
        Assert.Equal(1.0, GateMetrics.FreeRunningBalancedAccuracy([[-3f, -3f, -3f, -3f, 2f]], [5]), 9);
    }

    [Fact]
    public void FreeRunning_NeverStops_IsHalf()
    {
        var never = Enumerable.Repeat(-3f, 40).ToArray(); // ran to the step limit
        Assert.Equal(0.5, GateMetrics.FreeRunningBalancedAccuracy([never, never], [5, 10]), 9);
    }

    [Fact]
    public void FreeRunning_StopsEarly_MissingStepsCountAsFalseStops()
    {
        // True 6 steps, stopped at step 2: steps 0,1 continue (right), 2 stop (wrong, target continue), 3,4 counted as
        // stops (wrong), 5 stop (right). continue-recall 2/5, stop-recall 1/1.
        Assert.Equal(0.5 * (2.0 / 5 + 1.0), GateMetrics.FreeRunningBalancedAccuracy([[-1f, -1f, 1f]], [6]), 9);
        Assert.Throws<ArgumentException>(() => GateMetrics.FreeRunningBalancedAccuracy([[1f]], [1, 2]));
    }

    [Fact]
    public void FreeRunning_PerSentenceMean_OneBabblerDoesNotDrownTheRest()
    {
        var never = Enumerable.Repeat(-3f, 400).ToArray();
        Assert.Equal(0.75, GateMetrics.FreeRunningBalancedAccuracy([[-3f, -3f, 2f], never], [3, 3]), 9);
        // Two steps late: stop-recall 1/3.
        Assert.Equal(0.5 * (1 + 1.0 / 3), GateMetrics.FreeRunningBalancedAccuracy([[-3f, -3f, -3f, -3f, 2f]], [3]), 9);
    }
}

public class QualityScoreTests(ITestOutputHelper output)
{
    [Fact]
    public void Compute_UntrainedModel_AtMost30()
    {
        // Random-init attention (noisy uniform), gate never fires, free-running never stops, high mel loss and MCD.
        var a = AlignmentScorer.Score(Noisy(Uniform(150, 50), 150, 50, 0.5, seed: 1), 150, 50);
        double gate = GateMetrics.BalancedAccuracy(Enumerable.Repeat(-4f, 150).ToArray(), Enumerable.Range(0, 150).Select(i => i == 149 ? 1f : 0f).ToArray(), new[] { 150 });
        double q = QualityScore.Compute(a.Diagonality, gate, a.Monotonicity, stopAccuracy: 0, validationMelLoss: 1.5, lengthWithin10: 0, mcdDtw: 20);
        output.WriteLine($"untrained: D={a.Diagonality:0.000} M={a.Monotonicity:0.000} G={gate:0.000} Q={q}");
        Assert.True(q <= 30, $"{q}");
        // Worst case for an untrained model: attention frozen (Monotonicity 1), no validation yet.
        Assert.True(QualityScore.Compute(0, 0.5, 1) <= 30);
    }

    [Fact]
    public void Compute_AlignedWithWorkingGate_AtLeast70()
    {
        var a = AlignmentScorer.Score(Gaussian(150, 50, 1.0, Linear(150, 50)), 150, 50);
        double q = QualityScore.Compute(a.Diagonality, 0.93, a.Monotonicity, stopAccuracy: 0.9, validationMelLoss: 0.2, lengthWithin10: 0.95, mcdDtw: 4);
        output.WriteLine($"aligned: D={a.Diagonality:0.000} M={a.Monotonicity:0.000} Q={q}");
        Assert.True(q >= 70, $"{q}");
        // Real-run calibration: clean diagonal 0.82, gate 0.9, StopAccuracy 0.8, all within 10 %, mel loss 0.3, MCD 5 dB.
        Assert.True(QualityScore.Compute(0.82, 0.9, 0.95, 0.8, 0.3, 1.0, 5) >= 70);
    }

    [Fact]
    public void Compute_NeverStops_Below70WhateverTheRest()
    {
        // Perfect attention, perfect mels, but the gate never fires: free-running GateAccuracy 0.5, no stop, none within.
        double q = QualityScore.Compute(1, 0.5, 1, stopAccuracy: 0, validationMelLoss: 0, lengthWithin10: 0, mcdDtw: 0);
        Assert.Equal(65, q, 6);
        Assert.True(q < 70);
    }

    [Fact]
    public void Compute_KnownInputs_ExactFormula()
    {
        // 100·(0.30·0.6 + 0.10·0.6 + 0.25·(0.4+0.5)/2 + 0.10·0.9 + 0.10·0.25/(0.25+0.25) + 0.15·4/(4+4)) / 1.0
        Assert.Equal(56.75, QualityScore.Compute(0.6, 0.8, 0.9, 0.4, 0.25, 0.5, 4), 6);
        // Teacher-forced (train) record: only D, gate, Monotonicity; weights renormalise over 0.5.
        Assert.Equal(Math.Round(100 * (0.30 * 0.6 + 0.10 * 0.6 + 0.10 * 0.9) / 0.5, 2), QualityScore.Compute(0.6, 0.8, 0.9), 6);
        // StopAccuracy alone fills the stop/length term.
        Assert.Equal(Math.Round(100 * (0.30 * 0.6 + 0.10 * 0.6 + 0.25 * 0.4 + 0.10 * 0.9) / 0.75, 2), QualityScore.Compute(0.6, 0.8, 0.9, 0.4), 6);
    }

    [Fact]
    public void Compute_NonFiniteInputs_CountAsZero()
    {
        Assert.Equal(0, QualityScore.Compute(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN));
        Assert.Equal(0, QualityScore.MelTerm(double.PositiveInfinity));
        Assert.Equal(0.5, QualityScore.MelTerm(0.25), 9);
        Assert.Equal(0, QualityScore.McdTerm(double.NaN));
        Assert.Equal(0.5, QualityScore.McdTerm(QualityScore.McdHalf), 9);
    }
}
