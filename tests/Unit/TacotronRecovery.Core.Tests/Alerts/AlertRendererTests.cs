using TacotronRecovery.Core.Alerts;
using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Core.Tests.Alerts;

public class AlertRendererTests
{
    [Fact]
    public void Escape_HtmlSpecialCharacters_BecomeEntities()
    {
        Assert.Equal("&lt;b&gt;&amp;&quot;'", AlertRenderer.Escape("<b>&\"'"));
    }

    [Fact]
    public void Render_UserStringsWithMarkup_AreEscapedEverywhere()
    {
        var alert = new Alert
        {
            Kind = AlertKind.Warning, Run = "r<1>", Step = 42, Title = "<b>&\"'", Lines = new[] { "a<i>b" }, Recommendations = new[] { "x&y" },
            Photos = new[] { "/tmp/<p>.png" },
        };
        var r = AlertRenderer.Render(alert);
        Assert.Equal("<b>⚠️ WARNING</b> · <b>&lt;b&gt;&amp;&quot;'</b>\nrun r&lt;1&gt; · step 42\n\n• a&lt;i&gt;b\n\n<b>Recommendations</b>\n→ x&amp;y", r.Text);
        Assert.Equal("<b>&lt;b&gt;&amp;&quot;'</b> · step 42\n&lt;p&gt;.png", Assert.Single(r.PhotoCaptions));
        Assert.False(r.Truncated);
    }

    [Fact]
    public void Render_CountAboveOne_ShowsTimesN()
    {
        var r = AlertRenderer.Render(new Alert { Kind = AlertKind.Critical, Title = "mel loss is NaN", Count = 300 });
        Assert.StartsWith("<b>🔴 CRITICAL</b> · <b>mel loss is NaN</b> ×300\n", r.Text);
    }

    [Fact]
    public void Render_LongMessage_IsCutTo4096WithMarkerAndBalancedTags()
    {
        var lines = Enumerable.Range(0, 400).Select(i => $"line {i} " + new string('&', 20)).ToArray();
        var r = AlertRenderer.Render(new Alert { Kind = AlertKind.Info, Title = "t", Lines = lines, Recommendations = new[] { "r" } });
        Assert.True(r.Truncated);
        Assert.InRange(r.Text.Length, 3900, AlertRenderer.MaxMessageLength);
        Assert.EndsWith(AlertRenderer.TruncationMarker, r.Text);
        var body = r.Text[..^AlertRenderer.TruncationMarker.Length];
        Assert.DoesNotMatch("&(?!amp;|lt;|gt;|quot;)", body); // never cut inside an entity
        Assert.Equal(CountOf(r.Text, "<b>"), CountOf(r.Text, "</b>"));
    }

    [Fact]
    public void Render_OneHugeLine_IsCutInsideTheLine()
    {
        var r = AlertRenderer.Render(new Alert { Kind = AlertKind.Info, Title = "t", Lines = new[] { new string('x', 10_000) } });
        Assert.True(r.Truncated);
        Assert.Equal(AlertRenderer.MaxMessageLength, r.Text.Length);
        Assert.Contains("• xxx", r.Text);
    }

    [Fact]
    public void Render_LongTitleWithPhoto_CaptionAtMost1024()
    {
        var r = AlertRenderer.Render(new Alert { Kind = AlertKind.Progress, Title = new string('<', 2000), Photos = new[] { "a.png" } });
        var caption = Assert.Single(r.PhotoCaptions);
        Assert.InRange(caption.Length, 1000, AlertRenderer.MaxCaptionLength);
        Assert.EndsWith("&lt;</b>" + AlertRenderer.TruncationMarker, caption);
    }

    [Theory]
    [InlineData(AlertKind.Critical, "error_alerts")]
    [InlineData(AlertKind.Progress, "metrics_summary")]
    [InlineData(AlertKind.RecoveryStarted, "quality_interventions")]
    [InlineData(AlertKind.TrainingStart, "training_start")]
    [InlineData(AlertKind.Restart, "training_restart")]
    public void IsEnabled_SwitchOff_KindDisabled(AlertKind kind, string key)
    {
        var switches = ConfigLoader.Parse($"telegram:\n  notifications:\n    {key}: false\n").Telegram.Notifications;
        Assert.False(Alert.IsEnabled(kind, switches));
        Assert.True(Alert.IsEnabled(AlertKind.Info, switches));
        Assert.True(Alert.IsEnabled(kind, new TelegramNotifications()));
    }

    private static int CountOf(string s, string what) => (s.Length - s.Replace(what, "").Length) / what.Length;
}
