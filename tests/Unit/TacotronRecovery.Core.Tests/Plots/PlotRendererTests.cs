using SkiaSharp;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Plots;
using TacotronRecovery.Core.Tests.Health;

namespace TacotronRecovery.Core.Tests.Plots;

public sealed class PlotRendererTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tacotron-plots-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("TACOTRON_KEEP_PLOTS") is null && Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static SKBitmap Load(string path)
    {
        Assert.True(File.Exists(path), path);
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        return SKBitmap.Decode(bytes);
    }

    /// <summary>Dark pixels (text, lines) within a rectangle of the image.</summary>
    private static int DarkPixels(SKBitmap b, int x0, int y0, int x1, int y1)
    {
        int n = 0;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
            {
                var c = b.GetPixel(x, y);
                if (c.Red < 90 && c.Green < 90 && c.Blue < 90) n++;
            }
        return n;
    }

    [Fact]
    public void PlotFonts_Registered_ResolvesBundledFamily()
    {
        PlotFonts.EnsureRegistered();
        Assert.True(PlotFonts.FontBytes().Length > 500_000);
        var tf = ScottPlot.Fonts.GetTypeface(PlotFonts.FamilyName, false, false);
        Assert.Equal("DejaVu Sans", tf.FamilyName);
        Assert.Equal(PlotFonts.FamilyName, ScottPlot.Fonts.Default);
    }

    [Fact]
    public void Alignment_Diagonal_WritesPngWithTitleTextAndOriginLowerLeft()
    {
        int steps = 120, tokens = 40;
        var a = SyntheticAlignments.HardDiagonal(steps, tokens);
        var path = PlotRenderer.Alignment(a, steps, tokens, "Alignment step 500", Path.Combine(_dir, "sub", "align.png"));
        using var b = Load(path);
        Assert.Equal((900, 500), (b.Width, b.Height));
        // Title text is drawn in the top band.
        Assert.True(DarkPixels(b, 200, 0, 700, 40) > 50, "title text missing");
        // Origin lower-left: the first step's token 0 is bright (yellow in viridis) near the bottom-left of the data area,
        // the top-left is dark (purple).
        var lowerLeft = b.GetPixel(FindDataLeft(b) + 3, FindDataBottom(b) - 3);
        Assert.True(lowerLeft.Red > 180 && lowerLeft.Green > 180, $"lower-left {lowerLeft}");
    }

    private static int FindDataLeft(SKBitmap b)
    {
        // First column from the left whose middle row is not white (the heatmap's left edge).
        int y = b.Height / 2;
        for (int x = 0; x < b.Width / 2; x++) { var c = b.GetPixel(x, y); if (c.Red < 120 && c.Blue > 60 && c.Green < 60) return x; }
        return 0;
    }

    private static int FindDataBottom(SKBitmap b)
    {
        int x = b.Width / 2;
        for (int y = b.Height - 1; y > b.Height / 2; y--) { var c = b.GetPixel(x, y); if (c.Red < 120 && c.Blue > 60 && c.Green < 60) return y; }
        return b.Height - 1;
    }

    [Fact]
    public void Alignment_WrongShape_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => PlotRenderer.Alignment(new float[10], 3, 4, "x", Path.Combine(_dir, "x.png")));
        Assert.Contains("expected 3x4", e.Message);
    }

    [Fact]
    public void Mel_And_Gate_WritePngs()
    {
        int ch = 80, frames = 200;
        var mel = new float[ch * frames];
        for (int c = 0; c < ch; c++) for (int t = 0; t < frames; t++) mel[c * frames + t] = (float)(-4 + 3 * Math.Sin(t / 10.0) * Math.Exp(-c / 30.0));
        using (var m = Load(PlotRenderer.Mel(mel, ch, frames, "Mel", Path.Combine(_dir, "mel.png")))) Assert.Equal(400, m.Height);
        var gate = Enumerable.Range(0, 150).Select(i => i < 140 ? -6f : 6f).ToArray();
        var targets = Enumerable.Range(0, 150).Select(i => i < 140 ? 0f : 1f).ToArray();
        using var g = Load(PlotRenderer.Gate(gate, "Gate", Path.Combine(_dir, "gate.png"), targets));
        Assert.Equal((900, 300), (g.Width, g.Height));
    }

    [Fact]
    public void MetricCurves_WithNaNAndModes_WritesStackedPng()
    {
        var steps = HealthAnalyzerTests.Healthy(1, 3000);
        for (int s = 1200; s < 1210; s++) steps[s - 1] = steps[s - 1] with { Loss = double.NaN, MelLoss = double.NaN, Skipped = true };
        for (int s = 1210; s < 1800; s++) steps[s - 1] = steps[s - 1] with { Mode = "SafeMode", SafeModeLevel = 1, LearningRate = 5e-4, GuidedAttentionWeight = 10 };
        var aligns = Enumerable.Range(1, 30).Select(k => HealthAnalyzerTests.Align(k * 100, Math.Min(0.85, k * 0.04))).ToList();
        var path = PlotRenderer.MetricCurves(steps, aligns, Path.Combine(_dir, "metrics.png"));
        using var b = Load(path);
        Assert.Equal((1200, 1400), (b.Width, b.Height));
        Assert.True(DarkPixels(b, 300, 0, 900, 40) > 50, "title text missing");
        Assert.Single(StageBand.FromModes(steps));
    }

    /// <summary>Pixels of the rollback marker's red (#C62828, its label box and dashed line) within a rectangle.</summary>
    private static int RollbackRedPixels(SKBitmap b, int x0, int y0, int x1, int y1)
    {
        int n = 0;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
            {
                var c = b.GetPixel(x, y);
                if (Math.Abs(c.Red - 198) < 30 && c.Green < 80 && c.Blue < 80) n++;
            }
        return n;
    }

    [Fact]
    public void MetricCurves_WithRollbackAndResume_DrawsLabelledMarkersInTheLossPanel()
    {
        var log = new StepTimelineTests.RunLog().Train(1, 300).Align(100, 0.3).Align(200, 0.5)
            .Rollback(restored: 250).Train(301, 600).Align(400, 0.6).Train(501, 700).Align(600, 0.7);
        int lossPanel = (int)(0.34 * 1400);
        using var with = Load(PlotRenderer.MetricCurves(log.Steps, log.Alignments, Path.Combine(_dir, "rollbacks.png"), log.Events));
        using var without = Load(PlotRenderer.MetricCurves(log.Steps.Take(300), log.Alignments.Take(2), Path.Combine(_dir, "before-rollback.png")));
        Assert.Equal((1200, 1400), (with.Width, with.Height));
        Assert.Equal(0, RollbackRedPixels(without, 0, 0, 1200, lossPanel));
        // Two labelled markers (rollback to 250, resumed from 500): label boxes plus dashed lines.
        Assert.True(RollbackRedPixels(with, 0, 0, 1200, lossPanel) > 1000, $"{RollbackRedPixels(with, 0, 0, 1200, lossPanel)} marker pixels");
    }

    [Fact]
    public void StageBand_FromModes_ContiguousSpans()
    {
        var modes = new[] { "Normal", "SafeMode", "SafeMode", "Normal", "AttentionCritical", "AttentionCritical" };
        var steps = modes.Select((m, i) => new StepMetrics { Step = i + 1, Mode = m });
        Assert.Equal(new[] { new StageBand("SafeMode", 2, 3), new StageBand("AttentionCritical", 5, 6) }, StageBand.FromModes(steps));
    }

    [Fact]
    public void MetricCurves_Empty_StillWritesPng()
    {
        using var b = Load(PlotRenderer.MetricCurves(Array.Empty<StepMetrics>(), null, Path.Combine(_dir, "empty.png")));
        Assert.Equal(1200, b.Width);
    }

    [Fact]
    public void Alignment_Speed_Under500msPerPlot()
    {
        var a = SyntheticAlignments.Gaussian(600, 120, 1, SyntheticAlignments.Linear(600, 120));
        PlotRenderer.Alignment(a, 600, 120, "warm", Path.Combine(_dir, "w.png"));
        long best = long.MaxValue;
        for (int k = 0; k < 3; k++)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            PlotRenderer.Alignment(a, 600, 120, "timed", Path.Combine(_dir, "t.png"));
            best = Math.Min(best, sw.ElapsedMilliseconds);
        }
        Assert.True(best < 500, $"{best} ms");
    }
}
