namespace TacotronRecovery.Core.Alerts;

/// <summary>Queue, retry, pacing and de-duplication settings of a notifier. Defaults suit a training run.</summary>
public sealed record NotifierOptions
{
    /// <summary>Alerts waiting to be sent; when full, new alerts are written to the outbox by a background writer.</summary>
    public int QueueCapacity { get; init; } = 256;
    /// <summary>Alerts waiting to be written to the outbox after the queue was full; beyond it alerts are dropped (counted).</summary>
    public int SpillCapacity { get; init; } = 4096;
    /// <summary>Attempts per request for 5xx, timeouts and connection errors before the alert goes to the outbox.</summary>
    public int MaxAttempts { get; init; } = 4;
    /// <summary>First backoff delay; doubled per attempt, with ±50 % jitter.</summary>
    public TimeSpan BackoffBase { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Longest backoff delay.</summary>
    public TimeSpan BackoffMax { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>429 answers honoured per request (each waits retry_after) before the alert goes to the outbox.</summary>
    public int MaxRateLimitRetries { get; init; } = 5;
    /// <summary>A 429 retry_after longer than this sends the alert to the outbox instead of waiting.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>An alert waits this long after its first occurrence so that identical ones are folded into it (×N).</summary>
    public TimeSpan DedupHold { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>Identical alerts (same <see cref="Alert.EffectiveDedupKey"/>) within this window are sent once.</summary>
    public TimeSpan DedupWindow { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>At most this many alerts of one kind per <see cref="RateLimitWindow"/>; more are suppressed (counted).</summary>
    public int MaxPerKind { get; init; } = 10;
    /// <summary>The per-kind rate-limit window.</summary>
    public TimeSpan RateLimitWindow { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>Least time between two requests (Telegram allows about one message per second to a chat).</summary>
    public TimeSpan MinSendInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>HTTP timeout of one request.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>While the outbox holds alerts, re-send is tried this often.</summary>
    public TimeSpan OutboxRetryInterval { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>Seed of the backoff jitter.</summary>
    public int Seed { get; init; } = 1234;
}
