using TacotronRecovery.Core.Health;
using static TacotronRecovery.Core.Tests.Health.SyntheticAlignments;

namespace TacotronRecovery.Core.Tests.Health;

public class AlignmentScorerTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int T = 150, N = 50;

    [Fact]
    public void Score_PerfectDiagonal_AtLeast095()
    {
        var s = AlignmentScorer.Score(HardDiagonal(T, N), T, N);
        Assert.True(s.Diagonality >= 0.95, $"{s.Diagonality}");
        Assert.Equal(1.0, s.Diagonality, 6);
        Assert.Equal(1.0, s.FocusRate, 6);
        Assert.Equal(1.0, s.Coverage, 6);
        Assert.Equal(1.0, s.Monotonicity, 6);
        Assert.Equal(1.0, s.TokenCoverage, 6);
        Assert.True(s.ReachedEnd);
        Assert.False(s.EndStall);
    }

    [Fact]
    public void Score_SoftDiagonalSigmaOne_AtLeast095()
    {
        var s = AlignmentScorer.Score(Gaussian(T, N, 1.0, Linear(T, N)), T, N);
        Assert.True(s.Diagonality >= 0.95, $"{s.Diagonality}");
    }

    [Fact]
    public void Score_CurvedSharpMonotonic_AtLeast09()
    {
        var s = AlignmentScorer.Score(Gaussian(T, N, 0.7, i => (N - 1) * Math.Pow(i / (T - 1.0), 1.7)), T, N);
        Assert.True(s.Diagonality >= 0.9, $"{s.Diagonality}");
        Assert.Equal(1.0, s.Monotonicity, 6);
    }

    [Fact]
    public void Score_Uniform_AtMost005()
    {
        var s = AlignmentScorer.Score(Uniform(T, N), T, N);
        Assert.True(s.Diagonality <= 0.05, $"{s.Diagonality}");
        Assert.Equal(1.0 / N, s.FocusRate, 5);
        Assert.Equal(1.0 / N, s.Coverage, 5);
    }

    [Fact]
    public void Score_StuckOnFirstToken_AtMost01()
    {
        var s = AlignmentScorer.Score(Stuck(T, N, 0), T, N);
        Assert.True(s.Diagonality <= 0.1, $"{s.Diagonality}");
        Assert.True(s.TokenCoverage <= 0.06, $"{s.TokenCoverage}");
        Assert.False(s.ReachedEnd);
    }

    [Fact]
    public void Score_Reversed_AtMost01()
    {
        var s = AlignmentScorer.Score(Gaussian(T, N, 0.7, i => (N - 1) - Linear(T, N)(i)), T, N);
        Assert.True(s.Diagonality <= 0.1, $"{s.Diagonality}");
        // argmax moves back N−1 times over T−1 transitions.
        Assert.Equal(1 - (N - 1.0) / (T - 1), s.Monotonicity, 6);
    }

    [Fact]
    public void Score_SmearedSigma3_StrictlyBetween()
    {
        var s = AlignmentScorer.Score(Gaussian(T, N, 3.0, Linear(T, N)), T, N);
        Assert.InRange(s.Diagonality, 0.45, 0.7);
        var sharp = AlignmentScorer.Score(Gaussian(T, N, 0.7, Linear(T, N)), T, N).Diagonality;
        var uniform = AlignmentScorer.Score(Uniform(T, N), T, N).Diagonality;
        Assert.True(s.Diagonality < sharp && s.Diagonality > uniform);
    }

    [Fact]
    public void Score_ManyMoreStepsThanTokens_Diagonal_AtLeast095()
    {
        var s = AlignmentScorer.Score(Gaussian(800, 20, 0.7, Linear(800, 20)), 800, 20);
        Assert.True(s.Diagonality >= 0.95, $"{s.Diagonality}");
    }

    [Fact]
    public void Score_MoreTokensThanSteps_Diagonal_AtLeast095()
    {
        var s = AlignmentScorer.Score(IntervalDiagonal(60, 100), 60, 100);
        Assert.True(s.Diagonality >= 0.95, $"{s.Diagonality}");
        var u = AlignmentScorer.Score(Uniform(60, 100), 60, 100);
        Assert.True(u.Diagonality <= 0.05, $"{u.Diagonality}");
    }

    [Fact]
    public void Score_TokensBeyondTwiceSteps_PathStillReachesEnd()
    {
        var s = AlignmentScorer.Score(IntervalDiagonal(30, 100), 30, 100);
        Assert.True(s.Diagonality >= 0.95, $"{s.Diagonality}");
        Assert.True(s.ReachedEnd);
    }

    [Fact]
    public void Score_PaddedMatrix_IgnoresPadding()
    {
        var a = Gaussian(T, N, 2.0, Linear(T, N));
        var plain = AlignmentScorer.Score(a, T, N);
        var padded = AlignmentScorer.Score(Pad(a, T, N, T + 37, N + 11, 0.9f), T + 37, N + 11, T, N);
        Assert.Equal(plain, padded);
    }

    [Fact]
    public void Score_UnnormalisedRows_SameAsNormalised()
    {
        var a = Gaussian(T, N, 2.0, Linear(T, N));
        var scaled = a.Select(v => v * 3).ToArray();
        Assert.Equal(AlignmentScorer.Score(a, T, N).Diagonality, AlignmentScorer.Score(scaled, T, N).Diagonality, 6);
    }

    [Fact]
    public void Score_EndStall_DetectedAndDiagonalityStillHigh()
    {
        // Diagonal over the first 40 % of the steps, then stuck on the last token.
        int reach = (int)(0.4 * T);
        var a = Gaussian(T, N, 0.7, i => i < reach ? i * (N - 1.0) / (reach - 1) : N - 1);
        var s = AlignmentScorer.Score(a, T, N);
        Assert.True(s.EndStall);
        Assert.InRange(s.EndTailSteps, T - reach, T - reach + 8);
        Assert.False(AlignmentScorer.Score(Gaussian(T, N, 0.7, Linear(T, N)), T, N).EndStall);
    }

    [Fact]
    public void Score_SingleStepAndSingleToken_Defined()
    {
        var one = AlignmentScorer.Score(new float[] { 1 }, 1, 1);
        Assert.Equal(1.0, one.Diagonality, 6);
        var row = AlignmentScorer.Score(new float[] { 0.1f, 0.8f, 0.1f }, 1, 3);
        Assert.Equal(1.0, row.Monotonicity);
        Assert.InRange(row.Diagonality, 0, 1);
    }

    [Fact]
    public void Score_WrongLength_ThrowsArgumentException()
    {
        var e = Assert.Throws<ArgumentException>(() => AlignmentScorer.Score(new float[10], 3, 4));
        Assert.Contains("expected 3x4", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => AlignmentScorer.Score(new float[12], 3, 4, 4, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => AlignmentScorer.Score(new float[12], 3, 4, 3, 0));
    }

    [Theory]
    [InlineData(10, 1)]
    [InlineData(30, 2)]
    [InlineData(50, 2)]
    [InlineData(70, 4)]
    [InlineData(90, 4)]
    [InlineData(100, 5)]
    [InlineData(3, 1)]
    public void BandHalfWidth_Tokens_FivePercentRoundedToEvenAtLeastOne(int tokens, int expected) =>
        Assert.Equal(expected, AlignmentScorer.BandHalfWidth(tokens));

    [Fact]
    public void ScoreBatch_TwoPaddedUtterances_AveragesPerUtterance()
    {
        int maxT = 200, maxN = 60;
        var a1 = HardDiagonal(150, 50);
        var a2 = Uniform(120, 40);
        var batch = Pad(a1, 150, 50, maxT, maxN, 0.3f).Concat(Pad(a2, 120, 40, maxT, maxN, 0.3f)).ToArray();
        var b = AlignmentScorer.ScoreBatch(batch, maxT, maxN, new[] { 150, 120 }, new[] { 50, 40 });
        var s1 = AlignmentScorer.Score(a1, 150, 50);
        var s2 = AlignmentScorer.Score(a2, 120, 40);
        Assert.Equal(2, b.Utterances);
        Assert.Equal((s1.Diagonality + s2.Diagonality) / 2, b.Diagonality, 9);
        Assert.Equal((s1.FocusRate + s2.FocusRate) / 2, b.FocusRate, 9);
        Assert.Equal((s1.Monotonicity + s2.Monotonicity) / 2, b.Monotonicity, 9);
        Assert.Equal(0.5, b.ReachedEndRate);
        Assert.Equal(s1, b.Items[0]);
    }

    [Fact]
    public void ScoreBatch_MismatchedLengths_Throws()
    {
        Assert.Throws<ArgumentException>(() => AlignmentScorer.ScoreBatch(new float[24], 3, 4, new[] { 3, 3 }, new[] { 4 }));
        Assert.Throws<ArgumentException>(() => AlignmentScorer.ScoreBatch(new float[23], 3, 4, new[] { 3, 3 }, new[] { 4, 4 }));
    }

    [Fact]
    public void Score_LargeAlignment_FastEnoughForTrainingLoop()
    {
        var a = Gaussian(800, 150, 1.0, Linear(800, 150));
        AlignmentScorer.Score(a, 800, 150); // warm-up (JIT)
        // Best of 10 (robust to a busy machine); Release builds take about 1–2 ms.
        double best = double.MaxValue;
        for (int k = 0; k < 10; k++)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            AlignmentScorer.Score(a, 800, 150);
            best = Math.Min(best, sw.Elapsed.TotalMilliseconds);
        }
        output.WriteLine($"{best:0.00} ms per 800x150 alignment");
        Assert.True(best < 25, $"{best:0.0} ms per 800x150 alignment");
    }
}
