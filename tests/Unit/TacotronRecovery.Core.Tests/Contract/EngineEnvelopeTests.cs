using TacotronRecovery.Core.Contract;
using TacotronRecovery.Core.Metrics;

namespace TacotronRecovery.Core.Tests.Contract;

public class EngineEnvelopeTests
{
    [Fact]
    public void Line_RoundTripsATrainingRecord_NonFiniteKept()
    {
        var m = new StepMetrics { Run = "r", Step = 7, Loss = double.NaN, MelLoss = 0.5 };
        var line = EngineEnvelope.Line(EngineEnvelope.Step, m);
        Assert.StartsWith("{\"type\":\"step\",\"data\":{", line, StringComparison.Ordinal);
        Assert.True(EngineEnvelope.TryParse(line, out var record));
        var back = Assert.IsType<StepMetrics>(record.ToTrainingRecord());
        Assert.Equal(7, back.Step);
        Assert.True(double.IsNaN(back.Loss));
    }

    [Fact]
    public void TryParse_IgnoresHumanTextMalformedJsonAndObjectsWithoutEnvelope()
    {
        Assert.False(EngineEnvelope.TryParse("engine 123 on cpu", out _));
        Assert.False(EngineEnvelope.TryParse("{\"type\":\"step\"", out _));
        Assert.False(EngineEnvelope.TryParse("{\"step\":1}", out _));
        Assert.False(EngineEnvelope.TryParse("", out _));
        Assert.False(EngineEnvelope.TryParse(null, out _));
    }

    [Fact]
    public void Write_ErrorRecord_ReadBackAsEngineError()
    {
        using var w = new StringWriter();
        EngineEnvelope.Write(w, EngineEnvelope.Error, new EngineError { ErrorId = "CheckpointCorrupt", Message = "hash does not match", Path = "/x.ckpt" });
        EngineEnvelope.Write(w, EngineEnvelope.Import, new { Step = 3 });
        var records = EngineEnvelope.ParseAll("noise\n" + w);
        Assert.Equal([EngineEnvelope.Error, EngineEnvelope.Import], records.Select(r => r.Type));
        var e = records[0].As<EngineError>()!;
        Assert.Equal(("CheckpointCorrupt", "hash does not match", "/x.ckpt"), (e.ErrorId, e.Message, e.Path));
        Assert.Equal(3, records[1].Data.GetProperty("step").GetInt32());
        Assert.Null(records[1].ToTrainingRecord());
    }

    [Fact]
    public void EventCodes_ExhaustionIncludesTheLegacyCode()
    {
        Assert.True(EventCodes.IsExhaustion(EventCodes.Exhausted));
        Assert.True(EventCodes.IsExhaustion(EventCodes.RecoveryExhausted));
        Assert.True(EventCodes.IsExhaustion("RestartBudgetSpent"));
        Assert.False(EventCodes.IsExhaustion(EventCodes.Restart));
        Assert.Contains("RestartBudgetSpent", EventCodes.Legacy);
        Assert.DoesNotContain("RestartBudgetSpent", EventCodes.All);
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(3, true)]
    [InlineData(5, true)]
    [InlineData(1, false)]
    [InlineData(134, false)]
    [InlineData(137, false)]
    public void ExitCodes_OnlyCrashesAreNotDeliberate(int code, bool deliberate) => Assert.Equal(deliberate, ExitCodes.IsDeliberate(code));
}
