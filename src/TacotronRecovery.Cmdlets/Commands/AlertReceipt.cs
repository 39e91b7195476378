using TacotronRecovery.Core.Alerts;

namespace TacotronRecovery.Commands;

/// <summary>Output of Send-TrainingAlert -PassThru: what became of one alert. Never holds the token.</summary>
public sealed record AlertReceipt
{
    /// <summary>Sent (Telegram accepted it), Queued (kept in the outbox, sent later) or Failed (refused for good).</summary>
    public DeliveryStatus Status { get; init; }
    /// <summary>Alert kind (Info, Warning, Critical, Progress, ...).</summary>
    public AlertKind Kind { get; init; }
    /// <summary>Telegram message id of the text message (Sent only).</summary>
    public int? MessageId { get; init; }
    /// <summary>Chat the alert went to (Sent only).</summary>
    public string? ChatId { get; init; }
    /// <summary>The alert's title.</summary>
    public string Title { get; init; } = "";
    /// <summary>Run the alert belongs to, if any.</summary>
    public string? Run { get; init; }
    /// <summary>Outbox file holding the alert (Queued and Failed).</summary>
    public string? Path { get; init; }
    /// <summary>Why it was not sent.</summary>
    public string? Reason { get; init; }
    /// <summary>The alert's id (as in the outbox file).</summary>
    public string AlertId { get; init; } = "";
}
