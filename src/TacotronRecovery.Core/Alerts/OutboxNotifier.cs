using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Core.Alerts;

/// <summary>
/// The notifier when Telegram is off or not configured: every alert (after switches, rate limit and de-duplication)
/// is written to the outbox, and exactly one warning saying why is given through the callback at construction.
/// A later run with Telegram configured sends the outbox (<see cref="TelegramNotifier.DrainOutboxAsync"/>).
/// </summary>
public sealed class OutboxNotifier : QueuedNotifier
{
    /// <summary>An outbox-only notifier; <paramref name="warn"/> receives one warning naming <paramref name="reason"/>.</summary>
    public OutboxNotifier(string outboxDirectory, string reason, Action<string>? warn = null, TelegramNotifications? switches = null,
        NotifierOptions? options = null, TimeProvider? time = null, SecretScrubber? scrubber = null)
        : base(outboxDirectory, switches, options, time, scrubber ?? new SecretScrubber())
    {
        Reason = reason;
        warn?.Invoke($"Telegram is not used ({reason}); alerts are kept in {Outbox.Directory}.");
    }

    /// <summary>Why Telegram is not used.</summary>
    public string Reason { get; }

    /// <inheritdoc />
    protected override Task ProcessAsync(Alert alert, DateTimeOffset queuedAt, CancellationToken cancellationToken)
    {
        var file = Outbox.Write(alert, queuedAt, 0, Reason);
        Report(alert, DeliveryStatus.Queued, outboxFile: file, reason: Reason);
        return Task.CompletedTask;
    }
}
