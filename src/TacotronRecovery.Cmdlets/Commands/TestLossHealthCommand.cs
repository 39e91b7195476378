using System.Management.Automation;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Health;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Commands.Engine;

namespace TacotronRecovery.Commands;

/// <summary>
/// <para type="synopsis">Checks a training's metrics for trouble and emits one HealthReport with findings and recommendations.</para>
/// <para type="description">Runs the health detectors over step metrics (StepMetrics) and alignment metrics
/// (AlignmentMetrics): non-finite losses or gradients, gradient explosions, loss spikes, plateaus, attention that does
/// not form or collapses, end-of-sentence stalls, a gate that never fires, a stalled learner and frequent skipped
/// steps. Input comes from the pipeline (the objects Get-TrainingMetrics emits, or any objects with the same property
/// names, e.g. from Import-Csv or ConvertFrom-Json; snake_case names bind too) or from a run directory with -Run.
/// Emits one HealthReport at the end: Status (Healthy, Warning, Critical), the latest Diagonality, GateAccuracy and
/// Quality, and Findings (Code, Severity, FirstStep, LastStep, Count, Evidence, Recommendation). A health incident is
/// data, not an error: the cmdlet fails only on unreadable input. Thresholds come from the health section of -Config
/// (defaults otherwise); definitions and defaults are in docs/metrics.md.</para>
/// <example><code>Get-TrainingMetrics -Run voice -Last 500 | Test-LossHealth</code><para>Health of the last 500 steps.</para></example>
/// <example><code>Get-TrainingMetrics -Run voice -Kind All -Last 2000 | Test-LossHealth | Select-Object -ExpandProperty Findings</code><para>Findings with evidence and recommendations, alignment included.</para></example>
/// <example><code>if (-not (Test-LossHealth -Run voice -Last 500 -Quiet)) { Invoke-EmergencyRecovery -Run voice -Notify }</code><para>Recover when the run is critical (for a watchdog script).</para></example>
/// <example><code>Import-Csv ./steps.csv | Test-LossHealth -Config ./voice.yaml</code><para>Recorded metrics from a CSV, with the thresholds of a config file.</para></example>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "LossHealth", DefaultParameterSetName = PipelineSet)]
[OutputType(typeof(HealthReport), typeof(bool))]
public sealed class TestLossHealthCommand : PSCmdlet
{
    private const string PipelineSet = "Pipeline";
    private const string RunSet = "Run";

    private HealthAnalyzer? _analyzer;
    private HealthOptions _health = new();
    private RecoveryOptions _recovery = new();

    /// <summary>
    /// <para type="description">A StepMetrics or AlignmentMetrics object, or any object with the same property names
    /// (Step, Loss, MelLoss, GradNorm, ... or Step, Diagonality, GateAccuracy, ...). Other objects (events) are ignored
    /// with a verbose message when they carry a Kind and Code, and are an error otherwise.</para>
    /// </summary>
    [Parameter(ParameterSetName = PipelineSet, Mandatory = true, ValueFromPipeline = true)]
    [AllowNull]
    public PSObject? InputObject { get; set; }

    /// <summary>
    /// <para type="description">Run name (a folder under -RunsRoot) or the path of a run directory; its metrics.jsonl and alignment.jsonl are read.</para>
    /// </summary>
    [Parameter(ParameterSetName = RunSet, Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Run { get; set; } = "";

    /// <summary>
    /// <para type="description">Folder holding run directories. Default: $env:TACOTRON_RUNS, else ./runs.</para>
    /// </summary>
    [Parameter(ParameterSetName = RunSet)]
    public string? RunsRoot { get; set; }

    /// <summary>
    /// <para type="description">Only the last N steps of the run (and the alignment records from the first of them on).</para>
    /// </summary>
    [Parameter(ParameterSetName = RunSet)]
    [ValidateRange(1, int.MaxValue)]
    public int Last { get; set; }

    /// <summary>
    /// <para type="description">A run config (YAML) whose health and recovery sections set the thresholds. Default: the documented defaults.</para>
    /// </summary>
    [Parameter]
    public string? Config { get; set; }

    /// <summary>
    /// <para type="description">Return only $true (Healthy or Warning) or $false (Critical), for scripts.</para>
    /// </summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    /// <inheritdoc />
    protected override void BeginProcessing()
    {
        if (Config is not null)
        {
            var path = GetUnresolvedProviderPathFromPSPath(Config);
            try
            {
                var config = ConfigLoader.Load(path);
                _health = config.Health;
                _recovery = config.Recovery;
            }
            catch (ConfigException e)
            {
                ThrowTerminatingError(new ErrorRecord(e, e.ErrorId, ErrorCategory.InvalidData, path));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                ThrowTerminatingError(new ErrorRecord(e, "ConfigNotReadable", ErrorCategory.ReadError, path));
            }
        }
        _analyzer = new HealthAnalyzer(_health, _recovery);
    }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        if (ParameterSetName != PipelineSet || InputObject is null) return;
        var item = InputObject.BaseObject;
        switch (item)
        {
            case StepMetrics s: _analyzer!.Add(s); return;
            case AlignmentMetrics a: _analyzer!.Add(a); return;
            case TrainingEvent e: WriteVerbose($"Skipping event {e.Code} at step {e.Step}: events are not metrics."); return;
        }
        var props = InputObject.Properties.Select(p => new KeyValuePair<string, object?>(p.Name, Unwrap(SafeValue(p)))).ToList();
        if (props.Any(p => p.Key == "Kind") && props.Any(p => p.Key == "Code") && !props.Any(p => p.Key.Equals("Diagonality", StringComparison.OrdinalIgnoreCase)))
        {
            WriteVerbose("Skipping an event-shaped object (Kind, Code): events are not metrics.");
            return;
        }
        try
        {
            switch (MetricRecordMapper.Map(props))
            {
                case StepMetrics s: _analyzer!.Add(s); break;
                case AlignmentMetrics a: _analyzer!.Add(a); break;
            }
        }
        catch (FormatException e)
        {
            var step = props.FirstOrDefault(p => p.Key.Equals("Step", StringComparison.OrdinalIgnoreCase)).Value;
            WriteError(new ErrorRecord(e, "InvalidMetricObject", ErrorCategory.InvalidData, InputObject)
            {
                ErrorDetails = new ErrorDetails(step is null ? e.Message : $"Step {step}: {e.Message}"),
            });
        }
    }

    /// <inheritdoc />
    protected override void EndProcessing()
    {
        HealthReport report;
        if (ParameterSetName == RunSet)
        {
            RunDirectory run;
            try
            {
                run = this.ResolveRun(Run, RunsRoot);
            }
            catch (RunDataException e)
            {
                ThrowTerminatingError(new ErrorRecord(e, e.ErrorId, ErrorCategory.ObjectNotFound, Run));
                return;
            }
            if (!File.Exists(run.MetricsFile) && !File.Exists(run.AlignmentFile))
            {
                ThrowTerminatingError(new ErrorRecord(new FileNotFoundException($"Run '{run.Name}' has no metrics.jsonl or alignment.jsonl at {run.Path}."),
                    "MetricsNotFound", ErrorCategory.ObjectNotFound, run.Path));
                return;
            }
            report = RunHealth.Analyze(run, Last > 0 ? Last : null, _health, _recovery, out long skipped);
            if (skipped > 0) WriteWarning($"Run '{run.Name}': {skipped} unreadable line(s) in metrics.jsonl/alignment.jsonl were skipped.");
        }
        else
        {
            report = _analyzer!.GetReport();
        }
        if (Quiet) WriteObject(report.Status != HealthStatus.Critical);
        else WriteObject(report);
    }

    private static object? SafeValue(PSPropertyInfo p)
    {
        try { return p.Value; }
        catch (GetValueException) { return null; }
    }

    private static object? Unwrap(object? v) => v is PSObject o ? o.BaseObject : v;
}
