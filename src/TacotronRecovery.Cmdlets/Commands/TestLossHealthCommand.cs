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
/// Quality (FiguresSource says which record each comes from), Findings (Code, Severity, FirstStep, LastStep, Count,
/// Evidence, Recommendation), and Ready: true only when the latest validation record (held-out sentences decoded one at
/// a time, free-running) meets every Done target of the recovery plan; Unmet lists what it misses. Training-batch
/// (teacher-forced) records never make a run ready. A health incident is
/// data, not an error: the cmdlet fails only on unreadable input. Thresholds come from the health and recovery sections
/// of -Config, else of the run's own config.yaml (the run of -Run, or the run the piped records name, looked up under
/// -RunsRoot), else the defaults; the report's ThresholdsSource says which ("defaults" or the config file's path).
/// Definitions and defaults are in docs/metrics.md.</para>
/// <example><code>Get-TrainingMetrics -Run voice -Last 500 | Test-LossHealth</code><para>Health of the last 500 steps.</para></example>
/// <example><code>Get-TrainingMetrics -Run voice -Kind All -Last 2000 | Test-LossHealth | Select-Object -ExpandProperty Findings</code><para>Findings with evidence and recommendations, alignment included.</para></example>
/// <example><code>if (-not (Test-LossHealth -Run voice -Last 500 -Quiet)) { Invoke-EmergencyRecovery -Run voice -Notify }</code><para>Recover when the run is critical (for a watchdog script).</para></example>
/// <example><code>Test-LossHealth -Run voice | Select-Object Status, ThresholdsSource</code><para>Judged with the run's own thresholds: ThresholdsSource is the path of runs/voice/config.yaml (or "defaults" when the run has none).</para></example>
/// <example><code>Test-LossHealth -Run voice | Select-Object Status, Ready, Unmet</code><para>Is the model usable? Ready judges the latest free-running validation against the Done targets and lists the unmet ones.</para></example>
/// <example><code>Import-Csv ./steps.csv | Test-LossHealth -Config ./voice.yaml</code><para>Recorded metrics from a CSV, with the thresholds of a config file.</para></example>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "LossHealth", DefaultParameterSetName = PipelineSet)]
[OutputType(typeof(HealthReport), typeof(bool))]
public sealed class TestLossHealthCommand : PSCmdlet
{
    private const string PipelineSet = "Pipeline";
    private const string RunSet = "Run";

    private const string Defaults = "defaults";

    private HealthAnalyzer? _analyzer;
    private HealthOptions _health = new();
    private RecoveryOptions _recovery = new();
    private string? _thresholdsSource;

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
    [ArgumentCompleter(typeof(Completers.RunCompleter))]
    public string Run { get; set; } = "";

    /// <summary>
    /// <para type="description">Folder holding run directories. Default: $env:TACOTRON_RUNS, else ./runs. With piped
    /// metrics, where the run they name is looked up for its config.yaml (its thresholds).</para>
    /// </summary>
    [Parameter]
    public string? RunsRoot { get; set; }

    /// <summary>
    /// <para type="description">Only the last N steps of the run (and the alignment records from the first of them on).</para>
    /// </summary>
    [Parameter(ParameterSetName = RunSet)]
    [ValidateRange(1, int.MaxValue)]
    public int Last { get; set; }

    /// <summary>
    /// <para type="description">A config (YAML) whose health and recovery sections set the thresholds. Default: the
    /// run's own config.yaml (of -Run, or of the run the piped records name), else the documented defaults.</para>
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
                _thresholdsSource = path;
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
    }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        if (ParameterSetName != PipelineSet || InputObject is null) return;
        var item = InputObject.BaseObject;
        switch (item)
        {
            case StepMetrics s: AnalyzerFor(s.Run).Add(s); return;
            case AlignmentMetrics a: AnalyzerFor(a.Run).Add(a); return;
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
                case StepMetrics s: AnalyzerFor(s.Run).Add(s); break;
                case AlignmentMetrics a: AnalyzerFor(a.Run).Add(a); break;
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
            if (_thresholdsSource is null) UseRunThresholds(run);
            report = RunHealth.Analyze(run, Last > 0 ? Last : null, _health, _recovery, out long skipped);
            if (skipped > 0) WriteWarning($"Run '{run.Name}': {skipped} unreadable line(s) in metrics.jsonl/alignment.jsonl were skipped.");
        }
        else
        {
            report = AnalyzerFor(null).GetReport();
        }
        report = report with { ThresholdsSource = _thresholdsSource };
        if (Quiet) WriteObject(report.Status != HealthStatus.Critical);
        else WriteObject(report);
    }

    /// <summary>
    /// The analyzer, made at the first record: with -Config's thresholds, else those of the run the record names
    /// (resolved like -Run, under -RunsRoot), else the defaults.
    /// </summary>
    private HealthAnalyzer AnalyzerFor(string? run)
    {
        if (_analyzer is not null) return _analyzer;
        if (_thresholdsSource is null)
        {
            if (string.IsNullOrWhiteSpace(run))
            {
                WriteVerbose("The metrics name no run: judging with the default thresholds.");
                _thresholdsSource = Defaults;
            }
            else
            {
                try
                {
                    UseRunThresholds(this.ResolveRun(run, RunsRoot));
                }
                catch (RunDataException e)
                {
                    WriteVerbose($"{e.Message} Judging with the default thresholds.");
                    _thresholdsSource = Defaults;
                }
            }
        }
        return _analyzer = new HealthAnalyzer(_health, _recovery);
    }

    /// <summary>Thresholds from the run's config.yaml; the defaults when it has none or it cannot be read (with a warning).</summary>
    private void UseRunThresholds(RunDirectory run)
    {
        _thresholdsSource = Defaults;
        if (!File.Exists(run.ConfigFile))
        {
            WriteVerbose($"Run '{run.Name}' has no config.yaml: judging with the default thresholds.");
            return;
        }
        try
        {
            var config = ConfigLoader.Load(run.ConfigFile);
            (_health, _recovery, _thresholdsSource) = (config.Health, config.Recovery, run.ConfigFile);
            WriteVerbose($"Thresholds from {run.ConfigFile}.");
        }
        catch (Exception e) when (e is ConfigException or IOException or UnauthorizedAccessException)
        {
            WriteWarning($"Run '{run.Name}': cannot read {run.ConfigFile} ({e.Message}); judging with the default thresholds.");
        }
    }

    private static object? SafeValue(PSPropertyInfo p)
    {
        try { return p.Value; }
        catch (GetValueException) { return null; }
    }

    private static object? Unwrap(object? v) => v is PSObject o ? o.BaseObject : v;
}
