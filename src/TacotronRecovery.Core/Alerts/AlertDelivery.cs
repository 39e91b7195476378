namespace TacotronRecovery.Core.Alerts;

/// <summary>What became of an alert.</summary>
public enum DeliveryStatus
{
    /// <summary>Telegram accepted it.</summary>
    Sent,
    /// <summary>Kept in the outbox, to be sent later (Telegram unreachable, not configured, or the queue was full).</summary>
    Queued,
    /// <summary>Telegram refused it for good (e.g. 400 or 403); kept in <c>outbox/failed/</c> for inspection.</summary>
    Failed,
    /// <summary>Not sent: its notification switch is off, the per-kind rate limit was reached, or it was folded into an identical alert (×N).</summary>
    Suppressed,
}

/// <summary>The outcome of one alert, reported through <see cref="INotifier.Delivered"/>. Never holds the token.</summary>
public sealed record AlertDelivery
{
    /// <summary>The alert's id.</summary>
    public string AlertId { get; init; } = "";
    /// <summary>The alert's kind.</summary>
    public AlertKind Kind { get; init; }
    /// <summary>Outcome.</summary>
    public DeliveryStatus Status { get; init; }
    /// <summary>Telegram message id of the text message (Sent only).</summary>
    public int? MessageId { get; init; }
    /// <summary>Chat the alert went to (Sent only).</summary>
    public string? ChatId { get; init; }
    /// <summary>Outbox file holding the alert (Queued and Failed).</summary>
    public string? OutboxFile { get; init; }
    /// <summary>Why it was not sent (scrubbed of secrets).</summary>
    public string? Reason { get; init; }
}
