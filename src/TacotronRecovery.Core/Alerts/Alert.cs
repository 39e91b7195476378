using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Core.Alerts;

/// <summary>What an alert is about. Each kind maps to one <c>telegram.notifications</c> switch (see <see cref="Alert.IsEnabled"/>).</summary>
public enum AlertKind
{
    /// <summary>A non-finite loss, an automatic restart, attention critical mode, recovery exhausted. Switch: error_alerts.</summary>
    Critical,
    /// <summary>A recovery decision: parameters before → after, the plan, the forecast. Switch: quality_interventions.</summary>
    RecoveryStarted,
    /// <summary>Every N steps: quality report, attention and metrics PNGs, recommendations. Switch: metrics_summary.</summary>
    Progress,
    /// <summary>Recovery targets reached. Switch: quality_interventions.</summary>
    Success,
    /// <summary>Training started. Switch: training_start.</summary>
    TrainingStart,
    /// <summary>Training completed. Switch: training_complete.</summary>
    TrainingComplete,
    /// <summary>The engine was restarted. Switch: training_restart.</summary>
    Restart,
    /// <summary>Stopped early (exhausted or stopped by the operator). Switch: early_stop.</summary>
    EarlyStop,
    /// <summary>A warning (e.g. from Send-TrainingAlert -Severity Warning). Switch: error_alerts.</summary>
    Warning,
    /// <summary>Information (e.g. from Send-TrainingAlert). Always enabled.</summary>
    Info,
}

/// <summary>
/// One notification. Plain data: the renderer escapes every string, the notifier sends it or keeps it in the outbox.
/// Serialised to the outbox with the run-directory JSON dialect.
/// </summary>
public sealed record Alert
{
    /// <summary>Unique id (assigned by the notifier when empty); receipts refer to it.</summary>
    public string Id { get; init; } = "";
    /// <summary>What the alert is about.</summary>
    public AlertKind Kind { get; init; }
    /// <summary>Run name, if any.</summary>
    public string? Run { get; init; }
    /// <summary>Training step, if any.</summary>
    public int? Step { get; init; }
    /// <summary>One-line headline, e.g. "mel loss is NaN".</summary>
    public string Title { get; init; } = "";
    /// <summary>Key facts, one per line ("lr 1e-3 → 5e-4", "evidence: 3 non-finite steps of 100").</summary>
    public IReadOnlyList<string> Lines { get; init; } = Array.Empty<string>();
    /// <summary>What the operator should do.</summary>
    public IReadOnlyList<string> Recommendations { get; init; } = Array.Empty<string>();
    /// <summary>PNG files sent with the alert (missing files are listed in the text, not fatal).</summary>
    public IReadOnlyList<string> Photos { get; init; } = Array.Empty<string>();
    /// <summary>Alerts with the same key within the de-duplication window are sent once, with a count. Default: kind + title.</summary>
    public string? DedupKey { get; init; }
    /// <summary>When it happened.</summary>
    public DateTimeOffset Time { get; init; }
    /// <summary>How many occurrences this alert stands for (×N in the text); set by de-duplication.</summary>
    public int Count { get; init; } = 1;

    /// <summary>The effective de-duplication key.</summary>
    public string EffectiveDedupKey => DedupKey ?? $"{Kind}:{Title}";

    /// <summary>
    /// Whether <paramref name="switches"/> allow this kind: Critical and Warning → error_alerts; RecoveryStarted and
    /// Success → quality_interventions; Progress → metrics_summary; TrainingStart → training_start; TrainingComplete →
    /// training_complete; Restart → training_restart; EarlyStop → early_stop; Info always.
    /// </summary>
    public static bool IsEnabled(AlertKind kind, TelegramNotifications switches) => kind switch
    {
        AlertKind.Critical or AlertKind.Warning => switches.ErrorAlerts,
        AlertKind.RecoveryStarted or AlertKind.Success => switches.QualityInterventions,
        AlertKind.Progress => switches.MetricsSummary,
        AlertKind.TrainingStart => switches.TrainingStart,
        AlertKind.TrainingComplete => switches.TrainingComplete,
        AlertKind.Restart => switches.TrainingRestart,
        AlertKind.EarlyStop => switches.EarlyStop,
        _ => true,
    };
}
