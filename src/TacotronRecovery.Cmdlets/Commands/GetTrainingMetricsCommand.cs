using System.Management.Automation;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Commands.Engine;

namespace TacotronRecovery.Commands;

/// <summary>
/// <para type="synopsis">Streams a run's step metrics, alignment metrics or events as typed objects.</para>
/// <para type="description">Reads metrics.jsonl (StepMetrics), alignment.jsonl (AlignmentMetrics) or events.jsonl
/// (TrainingEvent) of a run directory and emits one object per line as it reads, so a file of millions of lines
/// streams with flat memory. -Last seeks from the end of the file; -Since keeps records at or after a step;
/// -Follow keeps emitting lines as the engine appends them until Ctrl+C or until run.json says the run is no longer
/// running. A torn last line (the engine was killed mid-write) is skipped silently (see -Verbose); other unreadable
/// lines are skipped with a warning naming the file and line. -Kind All merges the three files by time.</para>
/// <example><code>Get-TrainingMetrics -Run voice -Last 500 | Measure-Object Loss -Average</code><para>Mean loss of the last 500 steps.</para></example>
/// <example><code>Get-TrainingMetrics -Run voice -Kind Alignment -Follow | Where-Object Diagonality -lt 0.2</code><para>Watch for attention collapse while the run trains.</para></example>
/// <example><code>Get-TrainingMetrics -Run ./runs/voice -Kind Event -Since 10000</code><para>Events from step 10000 on, by path.</para></example>
/// </summary>
[Cmdlet(VerbsCommon.Get, "TrainingMetrics")]
[OutputType(typeof(StepMetrics), typeof(AlignmentMetrics), typeof(TrainingEvent))]
public sealed class GetTrainingMetricsCommand : PSCmdlet
{
    private readonly CancellationTokenSource _stop = new();

    /// <summary>
    /// <para type="description">Run name (a folder under -RunsRoot) or the path of a run directory.</para>
    /// </summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completers.RunCompleter))]
    public string Run { get; set; } = "";

    /// <summary>
    /// <para type="description">Folder holding run directories. Default: $env:TACOTRON_RUNS, else ./runs.</para>
    /// </summary>
    [Parameter]
    public string? RunsRoot { get; set; }

    /// <summary>
    /// <para type="description">Only the last N records (of each selected file; with -Kind All, the last N of the merged stream).</para>
    /// </summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Last { get; set; }

    /// <summary>
    /// <para type="description">Only records whose step is at least this.</para>
    /// </summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int Since { get; set; }

    /// <summary>
    /// <para type="description">Keep emitting records as they are appended; ends on Ctrl+C or when the run stops running.</para>
    /// </summary>
    [Parameter]
    public SwitchParameter Follow { get; set; }

    /// <summary>
    /// <para type="description">Step (default, metrics.jsonl), Alignment (alignment.jsonl), Event (events.jsonl) or All (merged by time).</para>
    /// </summary>
    [Parameter]
    public MetricsKind Kind { get; set; } = MetricsKind.Step;

    /// <summary>
    /// <para type="description">How often -Follow looks for new lines, in milliseconds. Default 250.</para>
    /// </summary>
    [Parameter]
    [ValidateRange(10, 60000)]
    public int PollMilliseconds { get; set; } = 250;

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        if (!this.TryResolveRun(Run, RunsRoot, out var dir)) return;

        var reader = new RunMetricsReader(dir, Kind);
        foreach (var f in reader.Files.Where(f => !File.Exists(f)))
            WriteVerbose($"'{f}' does not exist yet.");
        int? last = MyInvocation.BoundParameters.ContainsKey(nameof(Last)) ? Last : null;
        int? since = MyInvocation.BoundParameters.ContainsKey(nameof(Since)) ? Since : null;
        var records = Follow
            ? reader.Follow(last, since, () => RunSummary.IsActive(dir), TimeSpan.FromMilliseconds(PollMilliseconds), _stop.Token)
            : reader.Read(last, since);
        try
        {
            foreach (var r in records) WriteObject(r);
        }
        finally
        {
            ReportSkips(reader);
        }
    }

    /// <inheritdoc />
    protected override void StopProcessing() => _stop.Cancel();

    /// <inheritdoc />
    protected override void EndProcessing() => _stop.Dispose();

    private void ReportSkips(RunMetricsReader reader)
    {
        foreach (var (file, stats) in reader.Stats)
        {
            long invalid = stats.Skipped - (stats.TornTail ? 1 : 0);
            if (stats.TornTail) WriteVerbose($"'{file}': skipped a torn last line (the writer was interrupted mid-line).");
            if (invalid <= 0) continue;
            var first = stats.Skips.FirstOrDefault(s => !s.Reason.StartsWith("torn", StringComparison.Ordinal));
            var where = first is null ? "" : first.LineNumber > 0 ? $"; first at line {first.LineNumber}: {first.Reason}" : $"; first at byte {first.Offset}: {first.Reason}";
            WriteWarning($"'{file}': skipped {invalid} unreadable line(s){where}");
        }
    }
}
