using System.Management.Automation;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Plots;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Commands.Engine;

namespace TacotronRecovery.Commands;

/// <summary>
/// <para type="synopsis">Draws a training's metric curves, an attention alignment, a mel spectrogram or a gate curve to PNG.</para>
/// <para type="description">-Kind Metrics (default) reads a run's metrics.jsonl and alignment.jsonl and draws four stacked
/// panels sharing the step axis: loss components on a log scale (steps with NaN/Inf shaded red), gradient norm with the
/// clip threshold, Diagonality / GateAccuracy / Quality in %, and the guided-attention weight with the learning rate.
/// Spans in safe mode or attention critical mode are shaded on every panel. A rollback (or a resume from an earlier
/// checkpoint after an engine restart) is a dashed red line at the step the run went back from, labelled with the step
/// it went back to; the abandoned steps of every curve are dimmed and dashed, the live path stays solid. Written to the
/// run's plots/metrics.png unless -OutFile says otherwise.
/// -Kind Alignment, Mel or Gate draws a matrix given with -Path (a JSON file: a 2-D array, one inner array per row, or
/// an object with a data/alignment/values/mel array) or -Data (an array of rows). Alignment rows are decoder steps and
/// columns tokens (the heatmap has decoder steps on x, tokens on y, origin lower-left); Mel rows are mel channels;
/// Gate is one row of gate logits. The text uses a bundled font, so plots render on machines without fonts.</para>
/// <example><code>Export-TacotronPlot -Run voice -PassThru</code><para>Metric curves to runs/voice/plots/metrics.png; returns the file.</para></example>
/// <example><code>Export-TacotronPlot -Run voice -Last 5000 -OutFile ./recent.png</code><para>Curves of the last 5000 steps.</para></example>
/// <example><code>Export-TacotronPlot -Kind Alignment -Path ./attention.json -OutFile ./attention.png</code><para>Heatmap of an alignment saved as JSON.</para></example>
/// <example><code>Get-TacotronRun | ForEach-Object { Export-TacotronPlot -Run $_.Path }</code><para>Refresh the metrics plot of every run.</para></example>
/// </summary>
[Cmdlet(VerbsData.Export, "TacotronPlot", DefaultParameterSetName = RunSet)]
[OutputType(typeof(FileInfo))]
public sealed class ExportTacotronPlotCommand : PSCmdlet
{
    private const string RunSet = "Run";
    private const string PathSet = "Path";
    private const string DataSet = "Data";

    /// <summary>
    /// <para type="description">Run name (a folder under -RunsRoot) or the path of a run directory (for -Kind Metrics).</para>
    /// </summary>
    [Parameter(ParameterSetName = RunSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completers.RunCompleter))]
    public string Run { get; set; } = "";

    /// <summary>
    /// <para type="description">Folder holding run directories. Default: $env:TACOTRON_RUNS, else ./runs.</para>
    /// </summary>
    [Parameter(ParameterSetName = RunSet)]
    public string? RunsRoot { get; set; }

    /// <summary>
    /// <para type="description">Only the last N steps (for -Kind Metrics).</para>
    /// </summary>
    [Parameter(ParameterSetName = RunSet)]
    [ValidateRange(1, int.MaxValue)]
    public int Last { get; set; }

    /// <summary>
    /// <para type="description">Metrics (curves of a run), Alignment (attention heatmap), Mel (spectrogram) or Gate (stop-probability curve).</para>
    /// </summary>
    [Parameter]
    [ValidateSet("Metrics", "Alignment", "Mel", "Gate")]
    public string Kind { get; set; } = "Metrics";

    /// <summary>
    /// <para type="description">JSON file holding the matrix to draw (for -Kind Alignment, Mel, Gate).</para>
    /// </summary>
    [Parameter(ParameterSetName = PathSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>
    /// <para type="description">The matrix to draw as an array of rows, e.g. @(@(0.9, 0.1), @(0.2, 0.8)) (for -Kind Alignment, Mel, Gate).</para>
    /// </summary>
    [Parameter(ParameterSetName = DataSet, Mandatory = true)]
    public float[][] Data { get; set; } = [];

    /// <summary>
    /// <para type="description">PNG to write. Default: the run's plots/metrics.png for -Run; the -Path file with a .png extension for -Path. Required with -Data.</para>
    /// </summary>
    [Parameter(ParameterSetName = RunSet)]
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = DataSet, Mandatory = true)]
    public string? OutFile { get; set; }

    /// <summary>
    /// <para type="description">Plot title. Default: the run name or the input file name.</para>
    /// </summary>
    [Parameter]
    public string? Title { get; set; }

    /// <summary>
    /// <para type="description">Emit the written file as a FileInfo.</para>
    /// </summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        string written;
        try
        {
            written = ParameterSetName == RunSet ? DrawRun() : DrawMatrix();
        }
        catch (RunDataException e)
        {
            WriteError(new ErrorRecord(e, e.ErrorId, ErrorCategory.ObjectNotFound, Run));
            return;
        }
        catch (FormatException e)
        {
            WriteError(new ErrorRecord(e, "PlotDataInvalid", ErrorCategory.InvalidData, ParameterSetName == PathSet ? Path : "Data"));
            return;
        }
        catch (ArgumentException e)
        {
            WriteError(new ErrorRecord(e, "PlotDataInvalid", ErrorCategory.InvalidArgument, ParameterSetName == PathSet ? Path : Kind));
            return;
        }
        catch (FileNotFoundException e)
        {
            WriteError(new ErrorRecord(e, "PlotDataNotFound", ErrorCategory.ObjectNotFound, Path));
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            WriteError(new ErrorRecord(e, "PlotWriteFailed", ErrorCategory.WriteError, OutFile));
            return;
        }
        WriteVerbose($"Wrote {written}");
        if (PassThru) WriteObject(new FileInfo(written));
    }

    private string DrawRun()
    {
        if (Kind != "Metrics")
            throw new ArgumentException($"-Run draws -Kind Metrics; for -Kind {Kind} give the matrix with -Path or -Data.");
        var run = this.ResolveRun(Run, RunsRoot);
        if (!File.Exists(run.MetricsFile) && !File.Exists(run.AlignmentFile))
            throw new RunDataException("MetricsNotFound", run.Path, $"Run '{run.Name}' has no metrics.jsonl or alignment.jsonl at {run.Path}.");
        var steps = (Last > 0 ? JsonLines.ReadLast<StepMetrics>(run.MetricsFile, Last) : JsonLines.Read<StepMetrics>(run.MetricsFile)).ToList();
        // After a resume from an earlier checkpoint steps repeat, so the first record read is not always the smallest step.
        int since = Last > 0 && steps.Count > 0 ? steps.Min(s => s.Step) : 0;
        var aligns = JsonLines.ReadSince<AlignmentMetrics>(run.AlignmentFile, since).ToList();
        var events = JsonLines.ReadSince<TrainingEvent>(run.EventsFile, since).Where(StepTimeline.IsRollback).ToList();
        var path = OutFile is null ? System.IO.Path.Combine(run.PlotsDir, "metrics.png") : GetUnresolvedProviderPathFromPSPath(OutFile);
        return PlotRenderer.MetricCurves(steps, aligns, path, events, title: Title ?? $"Training metrics: {run.Name}");
    }

    private string DrawMatrix()
    {
        if (Kind == "Metrics") throw new ArgumentException("-Kind Metrics draws a run: use -Run. With -Path or -Data, choose -Kind Alignment, Mel or Gate.");
        PlotMatrix m;
        string outFile, title;
        if (ParameterSetName == PathSet)
        {
            var input = GetUnresolvedProviderPathFromPSPath(Path);
            if (!File.Exists(input)) throw new FileNotFoundException($"Plot data file not found: {input}", input);
            m = PlotMatrix.ReadJson(input);
            outFile = OutFile is null ? System.IO.Path.ChangeExtension(input, ".png") : GetUnresolvedProviderPathFromPSPath(OutFile);
            title = Title ?? System.IO.Path.GetFileNameWithoutExtension(input);
        }
        else
        {
            m = PlotMatrix.FromRows(Data.Select(r => (IReadOnlyList<float>)(r ?? [])).ToList(), "-Data");
            outFile = GetUnresolvedProviderPathFromPSPath(OutFile!);
            title = Title ?? Kind;
        }
        return Kind switch
        {
            "Alignment" => PlotRenderer.Alignment(m.Values, m.Rows, m.Columns, title, outFile),
            "Mel" => PlotRenderer.Mel(m.Values, m.Rows, m.Columns, title, outFile),
            _ => m.Rows == 1 ? PlotRenderer.Gate(m.Values, title, outFile)
                : throw new FormatException($"A gate curve is one row of logits; got {m.Rows} rows."),
        };
    }
}
