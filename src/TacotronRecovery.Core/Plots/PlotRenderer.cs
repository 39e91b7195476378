using System.Globalization;
using ScottPlot;
using SkiaSharp;
using TacotronRecovery.Core.Metrics;

namespace TacotronRecovery.Core.Plots;

/// <summary>
/// PNG plots of a training (ScottPlot 5, headless, with the bundled font): attention heatmap, mel spectrogram, gate
/// curve and metric curves. Each call writes one PNG (folders created) and returns its full path. Not thread-safe per
/// call site beyond what ScottPlot guarantees; each call builds its own plots.
/// </summary>
public static class PlotRenderer
{
    /// <summary>Largest number of points drawn per curve (plus one per segment); longer series are averaged in buckets.</summary>
    public const int MaxPointsPerCurve = 4000;

    private static readonly Color SafeModeColor = Color.FromHex("#FF9800").WithAlpha(0.18);
    private static readonly Color CriticalColor = Color.FromHex("#9C27B0").WithAlpha(0.18);
    private static readonly Color OtherBandColor = Color.FromHex("#607D8B").WithAlpha(0.18);
    private static readonly Color NonFiniteColor = Color.FromHex("#F44336").WithAlpha(0.35);
    private static readonly Color RollbackColor = Color.FromHex("#C62828");
    private const double AbandonedAlpha = 0.5;

    /// <summary>
    /// Attention heatmap: decoder step on x, token on y, origin lower-left (the classic Tacotron picture: a clean
    /// alignment is a line from bottom-left to top-right).
    /// </summary>
    /// <param name="alignment">Row-major [steps, tokens] (decoder step i, token j).</param>
    /// <param name="steps">Decoder steps.</param>
    /// <param name="tokens">Tokens.</param>
    /// <param name="title">Plot title.</param>
    /// <param name="path">PNG to write.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <exception cref="ArgumentException">The array does not hold steps × tokens values.</exception>
    public static string Alignment(float[] alignment, int steps, int tokens, string title, string path, int width = 900, int height = 500)
    {
        ArgumentNullException.ThrowIfNull(alignment);
        CheckShape(alignment.Length, steps, tokens, nameof(alignment));
        var grid = new double[tokens, steps];
        for (int i = 0; i < steps; i++)
            for (int j = 0; j < tokens; j++)
                grid[tokens - 1 - j, i] = Finite(alignment[i * tokens + j]);
        return Heatmap(grid, new ScottPlot.Colormaps.Viridis(), "attention weight", title, "Decoder step", "Encoder token", path, width, height);
    }

    /// <summary>Mel spectrogram: frame on x, mel channel on y (low frequencies at the bottom).</summary>
    /// <param name="mel">Row-major [channels, frames] (the Tacotron layout, e.g. 80 × T).</param>
    /// <param name="channels">Mel channels.</param>
    /// <param name="frames">Frames.</param>
    /// <param name="title">Plot title.</param>
    /// <param name="path">PNG to write.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <exception cref="ArgumentException">The array does not hold channels × frames values.</exception>
    public static string Mel(float[] mel, int channels, int frames, string title, string path, int width = 900, int height = 400)
    {
        ArgumentNullException.ThrowIfNull(mel);
        CheckShape(mel.Length, channels, frames, nameof(mel));
        var grid = new double[channels, frames];
        for (int c = 0; c < channels; c++)
            for (int t = 0; t < frames; t++)
                grid[channels - 1 - c, t] = Finite(mel[c * frames + t]);
        return Heatmap(grid, new ScottPlot.Colormaps.Magma(), "log magnitude", title, "Frame", "Mel channel", path, width, height);
    }

    /// <summary>A heatmap of grid [rows (top row first), columns] over x 0..columns, y 0..rows, with a labelled colour bar.</summary>
    private static string Heatmap(double[,] grid, IColormap colormap, string barLabel, string title, string xLabel, string yLabel,
        string path, int width, int height)
    {
        int rows = grid.GetLength(0), columns = grid.GetLength(1);
        using var plot = NewPlot();
        var hm = plot.Add.Heatmap(grid);
        hm.Colormap = colormap;
        hm.Extent = new CoordinateRect(0, columns, 0, rows);
        plot.Add.ColorBar(hm).Label = barLabel;
        plot.Axes.SetLimits(0, columns, 0, rows);
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        return Save(plot, path, width, height);
    }

    /// <summary>Gate curve: sigmoid(gate logit) per frame, the 0.5 threshold, and the targets when given.</summary>
    /// <param name="gateLogits">Gate logits per frame.</param>
    /// <param name="title">Plot title.</param>
    /// <param name="path">PNG to write.</param>
    /// <param name="targets">Gate targets (0/1) per frame, optional.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    public static string Gate(float[] gateLogits, string title, string path, float[]? targets = null, int width = 900, int height = 300)
    {
        ArgumentNullException.ThrowIfNull(gateLogits);
        if (gateLogits.Length == 0) throw new ArgumentException("No gate values.", nameof(gateLogits));
        using var plot = NewPlot();
        var xs = Enumerable.Range(0, gateLogits.Length).Select(i => (double)i).ToArray();
        if (targets is not null)
        {
            var t = plot.Add.ScatterLine(xs.Take(targets.Length).ToArray(), targets.Select(v => (double)v).ToArray(), Colors.Gray.WithAlpha(0.5));
            t.LegendText = "target";
            t.LineWidth = 6;
        }
        var p = plot.Add.ScatterLine(xs, gateLogits.Select(v => Finite(1 / (1 + Math.Exp(-v)))).ToArray(), Colors.C0);
        p.LegendText = "sigmoid(gate)";
        p.LineWidth = 2;
        var thr = plot.Add.HorizontalLine(0.5, 1, Colors.Red, LinePattern.Dotted);
        thr.LegendText = "stop threshold 0.5";
        plot.Axes.SetLimits(0, Math.Max(1, gateLogits.Length - 1), -0.05, 1.05);
        plot.Title(title);
        plot.XLabel("Decoder step");
        plot.YLabel("Stop probability");
        plot.ShowLegend(ScottPlot.Alignment.MiddleLeft);
        return Save(plot, path, width, height);
    }

    /// <summary>
    /// Metric curves in four stacked panels sharing the step axis: loss components (log scale; non-finite steps shaded
    /// red), gradient norm (log) with the clip threshold, Diagonality / GateAccuracy / Quality in %, and the
    /// guided-attention weight. Stage bands are shaded on every panel. Rollbacks (<see cref="StepTimeline"/>) are drawn
    /// as what they are: a dashed vertical line at the step the run went back from, labelled on the top panel, and the
    /// abandoned steps of every curve dimmed and dashed; the live path is solid and never goes back in time.
    /// </summary>
    /// <param name="steps">Step records in file order (after a resume from an earlier checkpoint, steps repeat).</param>
    /// <param name="alignments">Alignment records in file order (may be empty).</param>
    /// <param name="path">PNG to write.</param>
    /// <param name="events">Events of the run (may be empty); its <c>RollbackCompleted</c> events mark in-process rollbacks.</param>
    /// <param name="stageBands">Spans to shade; default: the non-normal training modes (<see cref="StageBand.FromModes"/>).</param>
    /// <param name="title">Title of the top panel.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    public static string MetricCurves(IEnumerable<StepMetrics> steps, IEnumerable<AlignmentMetrics>? alignments, string path,
        IEnumerable<TrainingEvent>? events = null, IEnumerable<StageBand>? stageBands = null, string? title = null, int width = 1200, int height = 1400)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var s = steps as IReadOnlyList<StepMetrics> ?? steps.ToList();
        var a = alignments as IReadOnlyList<AlignmentMetrics> ?? alignments?.ToList() ?? [];
        var bands = stageBands?.ToList() ?? StageBand.FromModes(s).ToList();
        double xMin = Math.Min(s.Count > 0 ? s.Min(m => m.Step) : double.MaxValue, a.Count > 0 ? a.Min(m => m.Step) : double.MaxValue);
        double xMax = Math.Max(s.Count > 0 ? s.Max(m => m.Step) : double.MinValue, a.Count > 0 ? a.Max(m => m.Step) : double.MinValue);
        if (xMin > xMax) { xMin = 0; xMax = 1; }
        if (xMax - xMin < 1) xMax = xMin + 1;
        var timeline = StepTimeline.From(s, events);
        var marks = timeline.Rollbacks.Where(m => m.AtStep >= xMin && m.AtStep <= xMax).ToList();

        var runName = s.FirstOrDefault(m => m.Run is not null)?.Run ?? a.FirstOrDefault(m => m.Run is not null)?.Run;
        using var loss = NewPlot();
        loss.Title(title ?? (runName is null ? "Training metrics" : $"Training metrics: {runName}"));
        AddBands(loss, bands, legend: true);
        AddNonFinite(loss, s);
        AddRollbacks(loss, marks, labelled: true);
        AddLog(loss, timeline, s, m => m.Loss, "total", Colors.Black);
        AddLog(loss, timeline, s, m => m.MelLoss, "mel", Colors.C0);
        AddLog(loss, timeline, s, m => m.MelPostnetLoss, "mel postnet", Colors.C1);
        AddLog(loss, timeline, s, m => m.GateLoss, "gate", Colors.C2);
        AddLog(loss, timeline, s, m => m.GuidedAttentionLoss, "guided attention", Colors.C4);
        if (marks.Count > 0)
            loss.Legend.ManualItems.Add(new LegendItem { LabelText = "abandoned steps", LineColor = Colors.Black.WithAlpha(AbandonedAlpha), LinePattern = LinePattern.Dashed, LineWidth = 1.5f });
        LogAxis(loss, s, m => [m.Loss, m.MelLoss, m.MelPostnetLoss, m.GateLoss, m.GuidedAttentionLoss]);
        loss.YLabel("Loss (log)");

        using var grad = NewPlot();
        AddBands(grad, bands);
        AddRollbacks(grad, marks, labelled: false);
        AddLog(grad, timeline, s, m => m.GradNorm, "grad norm", Colors.C3);
        AddLog(grad, timeline, s, m => m.ClipThreshold, "clip threshold", Colors.Gray);
        LogAxis(grad, s, m => [m.GradNorm, m.ClipThreshold]);
        grad.YLabel("Grad norm (log)");

        using var align = NewPlot();
        AddBands(align, bands);
        AddRollbacks(align, marks, labelled: false);
        var train = a.Where(m => !string.Equals(m.Source, "validation", StringComparison.OrdinalIgnoreCase)).ToList();
        var valid = a.Where(m => string.Equals(m.Source, "validation", StringComparison.OrdinalIgnoreCase)).ToList();
        var src = train.Count > 0 ? train : valid;
        AddAlignment(align, timeline, src, m => 100 * m.Diagonality, "Diagonality %", Colors.C0);
        AddAlignment(align, timeline, src, m => 100 * m.GateAccuracy, "GateAccuracy %", Colors.C2);
        AddAlignment(align, timeline, valid.Count > 0 ? valid : src, m => m.Quality, "Quality %", Colors.Black);
        align.Add.HorizontalLine(20, 1, Colors.Red.WithAlpha(0.6), LinePattern.Dotted).LegendText = "collapse 20 %";
        align.Axes.SetLimitsY(0, 100);
        align.YLabel("Alignment, %");

        using var ga = NewPlot();
        AddBands(ga, bands);
        AddRollbacks(ga, marks, labelled: false);
        AddLinear(ga, timeline, s, m => m.GuidedAttentionWeight, "guided-attention weight", Colors.C4);
        AddLinear(ga, timeline, s, m => m.LearningRate * 1e4, "learning rate ×1e4", Colors.C1);
        ga.YLabel("Weight / LR ×1e4");
        ga.XLabel("Step");

        var panels = new[] { loss, grad, align, ga };
        foreach (var p in panels)
        {
            p.Axes.SetLimitsX(xMin, xMax);
            if (p.GetPlottables().Any(x => x.LegendItems.Any(li => !string.IsNullOrEmpty(li.LabelText)))) p.ShowLegend(ScottPlot.Alignment.UpperRight);
        }
        return SaveStacked(panels, [0.34, 0.22, 0.26, 0.18], path, width, height);
    }

    private static Plot NewPlot()
    {
        PlotFonts.EnsureRegistered();
        var plot = new Plot();
        plot.Font.Set(PlotFonts.FamilyName);
        return plot;
    }

    private static void CheckShape(int length, int rows, int cols, string name)
    {
        if (rows < 1 || cols < 1 || (long)rows * cols != length)
            throw new ArgumentException($"{name} has {length} values, expected {rows}x{cols}.", name);
    }

    private static double Finite(double v) => double.IsFinite(v) ? v : double.NaN;

    private static void AddBands(Plot plot, List<StageBand> bands, bool legend = false)
    {
        var seen = new HashSet<string>();
        foreach (var b in bands)
        {
            var color = b.Label.Contains("Critical", StringComparison.OrdinalIgnoreCase) ? CriticalColor
                : b.Label.Contains("Safe", StringComparison.OrdinalIgnoreCase) ? SafeModeColor : OtherBandColor;
            var span = plot.Add.HorizontalSpan(b.FromStep, Math.Max(b.ToStep, b.FromStep + 0.5), color);
            span.LineWidth = 0;
            if (legend && seen.Add(b.Label)) span.LegendText = b.Label;
        }
    }

    private static void AddNonFinite(Plot plot, IReadOnlyList<StepMetrics> s)
    {
        bool labelled = false;
        int? from = null;
        int last = 0;
        foreach (var m in s)
        {
            bool bad = !m.LossesFinite();
            if (from is not null && m.Step <= last) { Add(from.Value, last); from = null; }  // resumed from an earlier step
            if (bad) { from ??= m.Step; last = m.Step; }
            else if (from is not null) { Add(from.Value, last); from = null; }
        }
        if (from is not null) Add(from.Value, last);

        void Add(int a, int b)
        {
            var span = plot.Add.HorizontalSpan(a - 0.5, b + 0.5, NonFiniteColor);
            span.LineWidth = 0;
            if (!labelled) { span.LegendText = "NaN/Inf"; labelled = true; }
        }
    }

    /// <summary>Dashed vertical lines at the steps the run went back from; labelled (and in the legend) when asked.</summary>
    private static void AddRollbacks(Plot plot, IReadOnlyList<RollbackMark> marks, bool labelled)
    {
        for (int k = 0; k < marks.Count; k++)
        {
            var line = plot.Add.VerticalLine(marks[k].AtStep, 1.5f, RollbackColor.WithAlpha(0.8), LinePattern.Dashed);
            if (!labelled) continue;
            if (k == 0) line.LegendText = "rollback / resume";
            line.LabelText = marks[k].Label;
            line.LabelFontSize = 11;
            line.LabelBackgroundColor = RollbackColor;
            line.LabelFontColor = Colors.White;
        }
    }

    private static void AddLog(Plot plot, StepTimeline timeline, IReadOnlyList<StepMetrics> s, Func<StepMetrics, double> value, string label, Color color) =>
        AddSegments(plot, timeline.Segments(s, m => m.Step, m => m.Time, m => value(m) is var v && v > 0 ? Math.Log10(v) : double.NaN), label, color, markers: false);

    private static void AddLinear(Plot plot, StepTimeline timeline, IReadOnlyList<StepMetrics> s, Func<StepMetrics, double> value, string label, Color color) =>
        AddSegments(plot, timeline.Segments(s, m => m.Step, m => m.Time, value), label, color, markers: false);

    private static void AddAlignment(Plot plot, StepTimeline timeline, IReadOnlyList<AlignmentMetrics> a, Func<AlignmentMetrics, double> value, string label, Color color) =>
        AddSegments(plot, timeline.Segments(a, m => m.Step, m => m.Time, value), label, color, markers: true);

    /// <summary>
    /// One curve: abandoned segments first (dimmed, dashed, no legend entry), then the live ones on top (solid, the
    /// first one carries the legend entry). Markers on every point when asked and the curve has at most 200 points.
    /// </summary>
    private static void AddSegments(Plot plot, IReadOnlyList<CurveSegment> segments, string label, Color color, bool markers)
    {
        int total = segments.Sum(g => g.Xs.Length);
        if (total == 0) return;
        int bucket = (int)Math.Ceiling(total / (double)MaxPointsPerCurve);
        bool withMarkers = markers && total <= 200;
        bool labelled = false;
        foreach (var g in segments.OrderByDescending(g => g.Abandoned))
        {
            var (xs, ys) = Decimate(g.Xs, g.Ys, bucket);
            var line = withMarkers ? plot.Add.Scatter(xs, ys, color) : plot.Add.ScatterLine(xs, ys, color);
            if (g.Abandoned)
            {
                line.Color = color.WithAlpha(AbandonedAlpha);
                line.LinePattern = LinePattern.Dashed;
                line.LineWidth = 1.5f;
                continue;
            }
            line.LineWidth = 1.5f;
            if (!labelled) { line.LegendText = label; labelled = true; }
        }
    }

    /// <summary>Averages consecutive points in buckets of <paramref name="bucket"/> (1: unchanged).</summary>
    private static (double[] Xs, double[] Ys) Decimate(double[] xs, double[] ys, int bucket)
    {
        if (bucket <= 1) return (xs, ys);
        int n = (xs.Length + bucket - 1) / bucket;
        var ox = new double[n];
        var oy = new double[n];
        for (int b = 0; b < n; b++)
        {
            int from = b * bucket, to = Math.Min(xs.Length, from + bucket);
            double sx = 0, sy = 0;
            for (int k = from; k < to; k++) { sx += xs[k]; sy += ys[k]; }
            ox[b] = sx / (to - from);
            oy[b] = sy / (to - from);
        }
        return (ox, oy);
    }

    /// <summary>
    /// Log10-scaled left axis: decade ticks with log minor ticks when the data spans a decade or more, otherwise
    /// ordinary ticks (a narrow range would show a single label) labelled with the unscaled value.
    /// </summary>
    private static void LogAxis(Plot plot, IReadOnlyList<StepMetrics> s, Func<StepMetrics, double[]> values)
    {
        double lo = double.MaxValue, hi = double.MinValue;
        foreach (var m in s)
            foreach (var v in values(m))
                if (double.IsFinite(v) && v > 0) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
        bool decades = lo < hi && Math.Log10(hi) - Math.Log10(lo) >= 1;
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = decades ? new ScottPlot.TickGenerators.LogMinorTickGenerator() : new ScottPlot.TickGenerators.EvenlySpacedMinorTickGenerator(2),
            IntegerTicksOnly = decades,
            LabelFormatter = y => Math.Pow(10, y).ToString("G3", CultureInfo.InvariantCulture),
        };
    }

    private static string Save(Plot plot, string path, int width, int height)
    {
        var full = Prepare(path);
        plot.SavePng(full, width, height);
        return full;
    }

    private static string SaveStacked(Plot[] panels, double[] shares, string path, int width, int height)
    {
        var full = Prepare(path);
        using var surface = SKSurface.Create(new SKImageInfo(width, height)) ?? throw new InvalidOperationException("SkiaSharp could not create a drawing surface.");
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        int top = 0;
        for (int k = 0; k < panels.Length; k++)
        {
            int h = k == panels.Length - 1 ? height - top : (int)Math.Round(shares[k] * height);
            // Same left and right padding on every panel so that their step axes line up.
            panels[k].Layout.Fixed(new PixelPadding(left: 90, right: 20, bottom: k == panels.Length - 1 ? 50 : 28, top: k == 0 ? 40 : 12));
            using var bitmap = SKBitmap.Decode(panels[k].GetImageBytes(width, h, ImageFormat.Png));
            canvas.DrawBitmap(bitmap, 0, top);
            top += h;
        }
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        using (var file = File.Create(full)) data.SaveTo(file);
        return full;
    }

    private static string Prepare(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(path);
        if (Path.GetDirectoryName(full) is { } dir) Directory.CreateDirectory(dir);
        return full;
    }
}
