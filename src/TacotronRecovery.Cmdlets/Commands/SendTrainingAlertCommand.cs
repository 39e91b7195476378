using System.Collections;
using System.Collections.Concurrent;
using System.Management.Automation;
using System.Security;
using TacotronRecovery.Core.Alerts;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Commands.Engine;

namespace TacotronRecovery.Commands;

/// <summary>Severity of a manual alert.</summary>
public enum AlertSeverity
{
    /// <summary>Information.</summary>
    Info,
    /// <summary>Something needs attention.</summary>
    Warning,
    /// <summary>Something is broken.</summary>
    Critical,
}

/// <summary>
/// <para type="synopsis">Sends a Telegram alert (text, PNG plots, or any object rendered as a message); keeps it in the outbox when Telegram is unreachable.</para>
/// <para type="description">Sends -Message, or one alert per pipeline object, to the chat configured in the telegram section
/// of -Config. Objects are rendered by their properties: Status and Findings (health reports), Outcome and Steps
/// (recovery results), Step and Loss (metrics), otherwise a property list. Every string is HTML-escaped.
/// When Telegram is not configured or unreachable, the alert is written to the outbox of -Run (or ./outbox) with a
/// warning and a Queued receipt; it is sent, in order, the next time an alert goes out. An unreachable Telegram is never
/// a terminating error. Alerts already waiting in the outbox are sent first.
/// The bot token comes from telegram.bot_token (usually ${TACOTRON_TELEGRAM_TOKEN}), the TACOTRON_TELEGRAM_TOKEN
/// environment variable, or -Token; it is never written anywhere. Manual alerts ignore the notification switches.</para>
/// <example><code>Send-TrainingAlert -Message 'disk 95% full' -Severity Warning -Config ./voice.yaml</code><para>A warning to the configured chat.</para></example>
/// <example><code>Get-TrainingMetrics -Run voice -Last 500 | Test-LossHealth | Send-TrainingAlert -Run voice -PassThru</code><para>Sends a health report and shows the receipt.</para></example>
/// <example><code>Send-TrainingAlert -Message 'attention check' -Photo ./runs/voice/plots/alignment-step-000500.png -WhatIf</code><para>Shows the rendered message; sends nothing.</para></example>
/// </summary>
[Cmdlet(VerbsCommunications.Send, "TrainingAlert", SupportsShouldProcess = true)]
[OutputType(typeof(AlertReceipt))]
public sealed class SendTrainingAlertCommand : PSCmdlet
{
    /// <summary>
    /// <para type="description">The alert text (its title). With pipeline input it titles each object's alert.</para>
    /// </summary>
    [Parameter(Position = 0)]
    public string? Message { get; set; }

    /// <summary>
    /// <para type="description">Info, Warning or Critical. Default: Info for -Message; derived from the object for pipeline input.</para>
    /// </summary>
    [Parameter]
    public AlertSeverity? Severity { get; set; }

    /// <summary>
    /// <para type="description">PNG files sent with the alert (one photo each, after the text).</para>
    /// </summary>
    [Parameter]
    public string[] Photo { get; set; } = Array.Empty<string>();

    /// <summary>
    /// <para type="description">Any object: health reports, recovery results, step metrics, or anything with properties.</para>
    /// </summary>
    [Parameter(ValueFromPipeline = true)]
    public object? InputObject { get; set; }

    /// <summary>
    /// <para type="description">YAML config whose telegram section is used. Default: none (alerts go to the outbox).</para>
    /// </summary>
    [Parameter]
    public string? Config { get; set; }

    /// <summary>
    /// <para type="description">Run name or run folder: the alert names the run and uses its outbox/. Default: ./outbox.</para>
    /// </summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completers.RunCompleter))]
    public string? Run { get; set; }

    /// <summary>
    /// <para type="description">Bot token, when neither telegram.bot_token nor $env:TACOTRON_TELEGRAM_TOKEN is set.</para>
    /// </summary>
    [Parameter]
    public SecureString? Token { get; set; }

    /// <summary>
    /// <para type="description">Seconds to wait for Telegram before the alert is left in the outbox. Default 60.</para>
    /// </summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSeconds { get; set; } = 60;

    /// <summary>
    /// <para type="description">Emit an AlertReceipt per alert: Status (Sent, Queued, Failed), MessageId, ChatId, Kind.</para>
    /// </summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private readonly List<Alert> _alerts = new();
    private readonly CancellationTokenSource _cancel = new();
    private TacotronConfig _config = new();
    private string _outbox = "";
    private string? _runName;

    /// <inheritdoc />
    protected override void BeginProcessing()
    {
        var cwd = this.CurrentDirectory();
        try
        {
            _config = ConfigLoader.LoadOrDefault(this.ProviderPathOrNull(Config));
        }
        catch (ConfigException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, e.ErrorId, e.ErrorId == "ConfigNotFound" ? ErrorCategory.ObjectNotFound : ErrorCategory.InvalidData, Config));
        }
        if (Run is not null)
        {
            try
            {
                var dir = this.ResolveRun(Run, null);
                _outbox = dir.OutboxDir;
                _runName = dir.Name;
            }
            catch (RunDataException e)
            {
                ThrowTerminatingError(new ErrorRecord(e, e.ErrorId, ErrorCategory.ObjectNotFound, Run));
            }
        }
        else
        {
            _outbox = System.IO.Path.Combine(cwd, "outbox");
        }
    }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        if (InputObject is null) return;
        var input = InputObject is PSObject pso && pso.BaseObject is not PSCustomObject ? pso.BaseObject : InputObject;
        Add(AlertComposer.Compose(input, PropertiesOf, Message, Kind(), _runName));
    }

    /// <inheritdoc />
    protected override void EndProcessing()
    {
        if (_alerts.Count == 0)
        {
            if (string.IsNullOrWhiteSpace(Message))
                ThrowTerminatingError(new ErrorRecord(new ArgumentException("Give -Message or pipe objects to Send-TrainingAlert."),
                    "AlertEmpty", ErrorCategory.InvalidArgument, null));
            Add(new Alert { Kind = Kind() ?? AlertKind.Info, Title = Message!, Run = _runName });
        }

        var toSend = new List<Alert>();
        bool telegram = _config.Telegram.Enabled && !string.IsNullOrWhiteSpace(_config.Telegram.ChatId);
        var destination = telegram ? $"Telegram chat {_config.Telegram.ChatId}" : $"the outbox {_outbox}";
        foreach (var alert in _alerts)
        {
            var text = AlertRenderer.Render(alert).Text;
            var photos = alert.Photos.Count > 0 ? $"\n(+ {alert.Photos.Count} photo(s): {string.Join(", ", alert.Photos.Select(System.IO.Path.GetFileName))})" : "";
            if (ShouldProcess($"Send {alert.Kind} alert to {destination}:\n{text}{photos}", $"Send this {alert.Kind} alert to {destination}?\n{text}", "Send-TrainingAlert"))
                toSend.Add(alert);
        }
        if (toSend.Count == 0) return;

        var warnings = new ConcurrentQueue<string>();
        var deliveries = new ConcurrentDictionary<string, AlertDelivery>();
        var options = new NotifierOptions
        {
            DedupHold = TimeSpan.Zero, MaxAttempts = 3, BackoffBase = TimeSpan.FromSeconds(1), RequestTimeout = TimeSpan.FromSeconds(Math.Min(15, TimeoutSeconds)),
            MaxPerKind = 1000, QueueCapacity = Math.Max(16, toSend.Count + 1),
        };
        var notifier = NotifierFactory.Create(_config.Telegram, _outbox, warnings.Enqueue, Token, applySwitches: false, options: options);
        notifier.Delivered += d => deliveries[d.AlertId] = d;
        try
        {
            foreach (var alert in toSend) notifier.TryEnqueue(alert);
            notifier.FlushAsync(TimeSpan.FromSeconds(TimeoutSeconds), _cancel.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C: whatever was not sent is written to the outbox when the notifier is disposed.
        }
        finally
        {
            notifier.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        while (warnings.TryDequeue(out var w)) WriteWarning(w);
        foreach (var alert in toSend)
        {
            var d = deliveries.GetValueOrDefault(alert.Id);
            var status = d?.Status ?? DeliveryStatus.Queued;
            if (status == DeliveryStatus.Queued && telegram) WriteWarning($"Telegram could not be reached ({d?.Reason}); the alert is kept in {d?.OutboxFile ?? _outbox} and will be sent later.");
            if (status == DeliveryStatus.Failed) WriteWarning($"Telegram refused the alert: {d?.Reason}");
            if (PassThru)
            {
                WriteObject(new AlertReceipt
                {
                    Status = status, Kind = alert.Kind, MessageId = d?.MessageId, ChatId = d?.ChatId, Title = alert.Title, Run = alert.Run,
                    Path = d?.OutboxFile, Reason = d?.Reason, AlertId = alert.Id,
                });
            }
        }
    }

    /// <inheritdoc />
    protected override void StopProcessing() => _cancel.Cancel();

    private void Add(Alert alert)
    {
        var photos = Photo.Select(p => GetUnresolvedProviderPathFromPSPath(p)).ToArray();
        foreach (var p in photos.Where(p => !File.Exists(p)))
            WriteError(new ErrorRecord(new FileNotFoundException($"Photo not found: {p}", p), "PhotoNotFound", ErrorCategory.ObjectNotFound, p));
        _alerts.Add(alert with { Id = Guid.NewGuid().ToString("N"), Photos = photos.Where(File.Exists).ToArray() });
    }

    private AlertKind? Kind() => Severity switch
    {
        AlertSeverity.Critical => AlertKind.Critical,
        AlertSeverity.Warning => AlertKind.Warning,
        AlertSeverity.Info => AlertKind.Info,
        _ => null,
    };

    private static IReadOnlyList<KeyValuePair<string, object?>>? PropertiesOf(object value)
    {
        if (value is PSObject { BaseObject: not PSCustomObject } wrapped) value = wrapped.BaseObject;
        if (value is IDictionary dictionary)
            return dictionary.Keys.Cast<object>().Select(k => new KeyValuePair<string, object?>(k.ToString() ?? "", dictionary[k])).ToList();
        var list = new List<KeyValuePair<string, object?>>();
        foreach (var p in PSObject.AsPSObject(value).Properties)
        {
            object? v;
            try { v = p.Value; } catch (Exception) { continue; }
            list.Add(new KeyValuePair<string, object?>(p.Name, v is PSObject { BaseObject: not PSCustomObject } inner ? inner.BaseObject : v));
        }
        return list;
    }
}
