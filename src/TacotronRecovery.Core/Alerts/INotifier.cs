namespace TacotronRecovery.Core.Alerts;

/// <summary>
/// Sends alerts from a background queue. <see cref="TryEnqueue"/> never waits for the network: a training step
/// calls it and moves on.
/// </summary>
public interface INotifier : IAsyncDisposable
{
    /// <summary>
    /// Accepts an alert without blocking. True when it will be sent or kept (queued, folded into an identical alert,
    /// or handed to the outbox writer because the queue was full); false when it is suppressed (switch off, rate
    /// limit) or dropped (queue and outbox writer both full).
    /// </summary>
    bool TryEnqueue(Alert alert);

    /// <summary>Waits until every accepted alert is sent or in the outbox, at most <paramref name="timeout"/>. True when all were handled.</summary>
    Task<bool> FlushAsync(TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>Raised (on a background thread) with the outcome of every alert.</summary>
    event Action<AlertDelivery>? Delivered;

    /// <summary>The outbox folder.</summary>
    string OutboxDirectory { get; }
}
