using System.Globalization;
using System.Text.Json;
using TacotronRecovery.Core.Health;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Tests.Health;

public class AttentionFileTests
{
    private static readonly DateTimeOffset T = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static string Utterance(string id, float[] a, int steps, int tokens) =>
        $"{{\"id\":\"{id}\",\"steps\":{steps},\"tokens\":{tokens},\"alignment\":[{string.Join(',', a.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]}}";

    [Fact]
    public void Score_EachUtteranceWithTheOneScorer_Averaged()
    {
        var diagonal = SyntheticAlignments.HardDiagonal(40, 20);
        var uniform = SyntheticAlignments.Uniform(30, 12);
        string json = $"{{\"step\":500,\"source\":\"Train\",\"gate_accuracy\":0.9,\"utterances\":[{Utterance("LJ001-0001", diagonal, 40, 20)},{Utterance("LJ001-0002", uniform, 30, 12)}]}}";
        var m = AttentionFile.Score(json, "voice", T);
        var a = AlignmentScorer.Score(diagonal, 40, 20);
        var b = AlignmentScorer.Score(uniform, 30, 12);
        Assert.Equal(500, m.Step);
        Assert.Equal("train", m.Source);
        Assert.Equal("voice", m.Run);
        Assert.Equal((a.Diagonality + b.Diagonality) / 2, m.Diagonality, 12);
        Assert.Equal((a.Monotonicity + b.Monotonicity) / 2, m.Monotonicity, 12);
        Assert.Equal((a.FocusRate + b.FocusRate) / 2, m.FocusRate, 12);
        Assert.Equal(0.9, m.GateAccuracy);
        Assert.Equal(QualityScore.Compute(m.Diagonality, 0.9, m.Monotonicity), m.Quality, 12);
        Assert.True(a.Diagonality > 0.9 && b.Diagonality < 0.2);
    }

    [Fact]
    public void Score_WithoutGateAccuracy_NaNAndTheGateTermCountsZero()
    {
        var m = AttentionFile.Score($"{{\"step\":7,\"utterances\":[{Utterance("u", SyntheticAlignments.HardDiagonal(8, 8), 8, 8)}]}}", null, T);
        Assert.True(double.IsNaN(m.GateAccuracy));
        Assert.Equal("train", m.Source);
        Assert.Equal(QualityScore.Compute(m.Diagonality, 0, m.Monotonicity), m.Quality, 12);
        // NaN is recorded the way the run directory records it, not lost.
        Assert.Contains("\"gate_accuracy\":\"NaN\"", JsonSerializer.Serialize(m, RunJson.Options));
    }

    [Theory]
    [InlineData("{\"step\":1,\"utterances\":[{\"steps\":2,\"tokens\":2,\"alignment\":[1,0,0]}]}")]
    [InlineData("{\"step\":1,\"utterances\":[]}")]
    [InlineData("{\"utterances\":[]}")]
    [InlineData("not json")]
    public void Score_BadShape_AttentionFileInvalid(string json) =>
        Assert.Equal("AttentionFileInvalid", Assert.Throws<RunDataException>(() => AttentionFile.Score(json, null, T)).ErrorId);

    [Theory]
    [InlineData("step-000500.json", 500)]
    [InlineData("/x/attention/step-12.json", 12)]
    [InlineData("step-000500.json.tmp", null)]
    [InlineData("other.json", null)]
    public void StepOf_FromTheFileName(string name, int? step) => Assert.Equal(step, AttentionFile.StepOf(name));

    [Fact]
    public void FileName_SixDigits() => Assert.Equal("step-000500.json", AttentionFile.FileName(500));
}
