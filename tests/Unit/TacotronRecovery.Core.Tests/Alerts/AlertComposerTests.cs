using TacotronRecovery.Core.Alerts;

namespace TacotronRecovery.Core.Tests.Alerts;

public class AlertComposerTests
{
    private sealed record Finding(string Severity, string Message);
    private sealed record Health(string Run, string Status, Finding[] Findings, string[] Recommendations);
    private sealed record Recovery(string Outcome, string[] Steps);
    private sealed record Metrics(int Step, double Loss, double GradNorm, string Mode);
    private sealed record Other(string Name, int Size);

    private static IReadOnlyList<KeyValuePair<string, object?>>? Props(object o) =>
        o.GetType().GetProperties().Select(p => new KeyValuePair<string, object?>(p.Name, p.GetValue(o))).ToList();

    [Fact]
    public void Compose_HealthReportShape_CriticalWithFindingsAndRecommendations()
    {
        var a = AlertComposer.Compose(new Health("voice", "Critical", new[] { new Finding("Critical", "mel loss is NaN") }, new[] { "roll back" }), Props);
        Assert.Equal((AlertKind.Critical, "Health: Critical", "voice"), (a.Kind, a.Title, a.Run));
        Assert.Equal(new[] { "[Critical] mel loss is NaN" }, a.Lines);
        Assert.Equal(new[] { "roll back" }, a.Recommendations);
    }

    [Theory]
    [InlineData("Recovered", AlertKind.Success)]
    [InlineData("Exhausted", AlertKind.Critical)]
    [InlineData("InProgress", AlertKind.RecoveryStarted)]
    public void Compose_RecoveryResultShape_KindFromOutcome(string outcome, AlertKind kind)
    {
        var a = AlertComposer.Compose(new Recovery(outcome, new[] { "rollback to 4500", "safe mode 1" }), Props);
        Assert.Equal(kind, a.Kind);
        Assert.Equal($"Recovery: {outcome}", a.Title);
        Assert.Equal(new[] { "rollback to 4500", "safe mode 1" }, a.Lines);
    }

    [Fact]
    public void Compose_StepMetricsShape_ProgressWithNumbers()
    {
        var a = AlertComposer.Compose(new Metrics(1200, 0.123456, 3.5, "safe"), Props, title: "check", severity: AlertKind.Warning);
        Assert.Equal((AlertKind.Warning, "check", 1200), (a.Kind, a.Title, a.Step));
        Assert.Equal(new[] { "Step 1200", "Loss 0.1235", "GradNorm 3.5" }, a.Lines);
    }

    [Fact]
    public void Compose_OtherObjectOrString_GenericTable()
    {
        var a = AlertComposer.Compose(new Other("disk", 95), Props);
        Assert.Equal((AlertKind.Info, "Other"), (a.Kind, a.Title));
        Assert.Equal(new[] { "Name: disk", "Size: 95" }, a.Lines);
        var s = AlertComposer.Compose("plain text", Props);
        Assert.Equal(("plain text", 0), (s.Title, s.Lines.Count));
    }
}
