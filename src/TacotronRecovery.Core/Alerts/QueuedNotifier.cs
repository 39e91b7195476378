using System.Threading.Channels;
using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Core.Alerts;

/// <summary>
/// The common part of the notifiers: switches, per-kind rate limit, de-duplication and a bounded background queue.
/// <para>De-duplication: the first alert with a key is held for <see cref="NotifierOptions.DedupHold"/>; identical
/// alerts arriving meanwhile only raise its count (a storm of 300 becomes one alert with ×300). Identical alerts after
/// it was handed on but within <see cref="NotifierOptions.DedupWindow"/> are counted, and that count is carried into
/// the next alert with the key (or a summary alert when the notifier is disposed).</para>
/// <para>Rate limit: at most <see cref="NotifierOptions.MaxPerKind"/> distinct alerts of one kind per
/// <see cref="NotifierOptions.RateLimitWindow"/>; the rest are suppressed and counted.</para>
/// </summary>
public abstract class QueuedNotifier : INotifier
{
    private readonly Channel<Pending> _queue;
    private readonly Dictionary<string, Pending> _recent = new(StringComparer.Ordinal);
    private readonly Dictionary<AlertKind, Queue<DateTimeOffset>> _rate = new();
    private readonly object _gate = new();
    private readonly TelegramNotifications? _switches;
    private readonly CancellationTokenSource _stop = new();
    private CancellationTokenSource _hold = new();
    private readonly Task _worker;
    private readonly Channel<Pending> _spill;
    private readonly Task _spillWorker;
    private int _inFlight;
    private int _disposed;

    /// <summary>Starts the background worker.</summary>
    protected QueuedNotifier(string outboxDirectory, TelegramNotifications? switches, NotifierOptions? options, TimeProvider? time, SecretScrubber scrubber)
    {
        Options = options ?? new NotifierOptions();
        Time = time ?? TimeProvider.System;
        Scrubber = scrubber;
        Outbox = new AlertOutbox(outboxDirectory, scrubber);
        _switches = switches;
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(Math.Max(1, Options.QueueCapacity))
        {
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails at once when full; nothing ever waits on it
            SingleReader = true,
        });
        _spill = Channel.CreateBounded<Pending>(new BoundedChannelOptions(Math.Max(1, Options.SpillCapacity)) { SingleReader = true });
        _worker = Task.Run(WorkAsync);
        _spillWorker = Task.Run(SpillAsync);
    }

    /// <summary>Settings.</summary>
    protected NotifierOptions Options { get; }
    /// <summary>Clock.</summary>
    protected TimeProvider Time { get; }
    /// <summary>Removes secrets from text.</summary>
    protected SecretScrubber Scrubber { get; }
    /// <summary>The outbox.</summary>
    protected AlertOutbox Outbox { get; }
    /// <summary>Cancelled when the notifier is disposed.</summary>
    protected CancellationToken Stopping => _stop.Token;

    /// <inheritdoc />
    public string OutboxDirectory => Outbox.Directory;

    /// <inheritdoc />
    public event Action<AlertDelivery>? Delivered;

    /// <summary>Alerts suppressed so far by the rate limit, per kind.</summary>
    public IReadOnlyDictionary<AlertKind, int> RateLimited
    {
        get { lock (_gate) return new Dictionary<AlertKind, int>(_rateLimited); }
    }
    private readonly Dictionary<AlertKind, int> _rateLimited = new();

    /// <inheritdoc />
    public bool TryEnqueue(Alert alert)
    {
        if (Volatile.Read(ref _disposed) != 0) throw new ObjectDisposedException(GetType().Name);
        var now = Time.GetUtcNow();
        if (alert.Id.Length == 0) alert = alert with { Id = Guid.NewGuid().ToString("N") };
        if (alert.Time == default) alert = alert with { Time = now };
        if (_switches is not null && !Alert.IsEnabled(alert.Kind, _switches))
        {
            Report(alert, DeliveryStatus.Suppressed, reason: $"the notification switch for {alert.Kind} is off");
            return false;
        }
        var key = alert.EffectiveDedupKey;
        Pending pending;
        lock (_gate)
        {
            int carried = 0;
            if (_recent.TryGetValue(key, out var previous))
            {
                if (now - previous.FirstSeen < Options.DedupWindow)
                {
                    if (previous.Dispatched) previous.LateCount++;
                    else previous.Count++;
                    Report(alert, DeliveryStatus.Suppressed, reason: $"folded into alert {previous.Alert.Id}");
                    return true;
                }
                carried = previous.LateCount;
                _recent.Remove(key);
            }
            if (!_rate.TryGetValue(alert.Kind, out var times)) _rate[alert.Kind] = times = new Queue<DateTimeOffset>();
            while (times.Count > 0 && now - times.Peek() >= Options.RateLimitWindow) times.Dequeue();
            if (times.Count >= Options.MaxPerKind)
            {
                _rateLimited[alert.Kind] = _rateLimited.GetValueOrDefault(alert.Kind) + 1;
                Report(alert, DeliveryStatus.Suppressed, reason: $"rate limit: more than {Options.MaxPerKind} {alert.Kind} alerts within {Options.RateLimitWindow}");
                return false;
            }
            times.Enqueue(now);
            pending = new Pending(alert, now) { Count = alert.Count + carried };
            _recent[key] = pending;
            PruneRecent(now);
            Interlocked.Increment(ref _inFlight);
        }
        if (_queue.Writer.TryWrite(pending)) return true;

        // Queue full: the spill writer keeps it in the outbox (local disk, never the network); file names keep the
        // acceptance order. The caller never touches the disk.
        lock (_gate) pending.Dispatched = true;
        if (_spill.Writer.TryWrite(pending)) return true;
        lock (_gate) _dropped++;
        Interlocked.Decrement(ref _inFlight);
        Report(pending.Alert, DeliveryStatus.Failed, reason: "the alert queue and the outbox spill queue were full; alert dropped");
        return false;
    }

    /// <summary>Alerts dropped because both the queue and the outbox spill queue were full.</summary>
    public int Dropped
    {
        get { lock (_gate) return _dropped; }
    }
    private int _dropped;

    private async Task SpillAsync()
    {
        try
        {
            await foreach (var pending in _spill.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    var file = Outbox.Write(pending.Alert with { Count = pending.Count }, pending.FirstSeen, 0, "the alert queue was full");
                    Report(pending.Alert, DeliveryStatus.Queued, outboxFile: file, reason: "the alert queue was full");
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Report(pending.Alert, DeliveryStatus.Failed, reason: "queue full and outbox not writable: " + Scrubber.Describe(e));
                }
                finally
                {
                    Interlocked.Decrement(ref _inFlight);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <inheritdoc />
    public async Task<bool> FlushAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = Time.GetUtcNow() + timeout;
        CancellationTokenSource hold;
        lock (_gate) hold = _hold;
        hold.Cancel(); // held alerts go out now
        try
        {
            while (Volatile.Read(ref _inFlight) > 0)
            {
                if (Time.GetUtcNow() >= deadline) return false;
                await Task.Delay(TimeSpan.FromMilliseconds(10), cancellationToken).ConfigureAwait(false);
            }
            return true;
        }
        finally
        {
            lock (_gate) if (ReferenceEquals(_hold, hold)) _hold = new CancellationTokenSource();
        }
    }

    /// <summary>Sends or keeps one alert (count already applied). Runs on the single background worker.</summary>
    protected abstract Task ProcessAsync(Alert alert, DateTimeOffset queuedAt, CancellationToken cancellationToken);

    /// <summary>Called by the worker when the queue has been idle for <see cref="NotifierOptions.OutboxRetryInterval"/>.</summary>
    protected virtual Task OnIdleAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Called when background work (an outbox retry) fails; the notifier keeps running. Default: ignored.</summary>
    protected virtual void OnBackgroundError(Exception error)
    {
    }

    /// <summary>Raises <see cref="Delivered"/>; a throwing handler is ignored.</summary>
    protected void Report(Alert alert, DeliveryStatus status, int? messageId = null, string? chatId = null, string? outboxFile = null, string? reason = null)
    {
        try
        {
            Delivered?.Invoke(new AlertDelivery
            {
                AlertId = alert.Id, Kind = alert.Kind, Status = status, MessageId = messageId, ChatId = chatId, OutboxFile = outboxFile,
                Reason = reason is null ? null : Scrubber.Scrub(reason),
            });
        }
        catch (Exception)
        {
            // A subscriber's bug must not stop the notifier.
        }
    }

    private async Task WorkAsync()
    {
        var reader = _queue.Reader;
        Task<bool>? wait = null;
        while (true)
        {
            Pending? next;
            try
            {
                wait ??= reader.WaitToReadAsync(_stop.Token).AsTask();
                using var idleCancel = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                var idle = Task.Delay(Options.OutboxRetryInterval, Time, idleCancel.Token);
                var first = await Task.WhenAny(wait, idle).ConfigureAwait(false);
                idleCancel.Cancel(); // no timer outlives its iteration
                if (first != wait)
                {
                    // Idle for a whole interval: time to retry the outbox. The pending wait is kept for the next round.
                    if (!idle.IsCanceled)
                    {
                        try { await OnIdleAsync(_stop.Token).ConfigureAwait(false); }
                        catch (Exception e) when (e is not OperationCanceledException) { OnBackgroundError(e); }
                    }
                    continue;
                }
                var more = await wait.ConfigureAwait(false);
                wait = null;
                if (!more) return;
                if (!reader.TryRead(out next)) continue;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            try
            {
                var release = next.FirstSeen + Options.DedupHold - Time.GetUtcNow();
                if (release > TimeSpan.Zero)
                {
                    CancellationTokenSource hold;
                    lock (_gate) hold = _hold;
                    using var linked = CancellationTokenSource.CreateLinkedTokenSource(hold.Token, _stop.Token);
                    try { await Task.Delay(release, Time, linked.Token).ConfigureAwait(false); }
                    catch (OperationCanceledException) { }
                }
                Alert alert;
                lock (_gate)
                {
                    next.Dispatched = true;
                    alert = next.Alert with { Count = next.Count };
                }
                await ProcessAsync(alert, next.FirstSeen, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Report(next.Alert, DeliveryStatus.Failed, reason: "notifier error: " + Scrubber.Describe(e));
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }

    private void PruneRecent(DateTimeOffset now)
    {
        if (_recent.Count < _pruneAt) return; // amortised: a full pass only when the table has doubled
        foreach (var (k, v) in _recent.ToArray())
            if (v.Dispatched && now - v.FirstSeen >= Options.DedupWindow && v.LateCount == 0) _recent.Remove(k);
        _pruneAt = Math.Max(512, _recent.Count * 2);
    }
    private int _pruneAt = 512;

    /// <summary>
    /// Sends what is still queued (summaries of late duplicates included), waiting at most 10 seconds, then stops the worker.
    /// Whatever was not handled by then stays in the outbox only if it had already been written there.
    /// </summary>
    public virtual async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        List<Pending> summaries;
        lock (_gate)
        {
            summaries = _recent.Values.Where(p => p.Dispatched && p.LateCount > 0).ToList();
            foreach (var p in summaries) _recent.Remove(p.Alert.EffectiveDedupKey);
        }
        foreach (var p in summaries)
        {
            var summary = p.Alert with
            {
                Id = Guid.NewGuid().ToString("N"), Count = p.LateCount, Time = Time.GetUtcNow(), Photos = Array.Empty<string>(),
                Lines = p.Alert.Lines.Append($"{p.LateCount} more occurrence(s) after the first report").ToArray(),
            };
            Interlocked.Increment(ref _inFlight);
            var pending = new Pending(summary, Time.GetUtcNow() - Options.DedupHold) { Count = p.LateCount };
            if (!_queue.Writer.TryWrite(pending)) Interlocked.Decrement(ref _inFlight);
        }
        await FlushAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _queue.Writer.TryComplete();
        _spill.Writer.TryComplete();
        _stop.Cancel();
        try { await _worker.ConfigureAwait(false); } catch (OperationCanceledException) { }
        try { await _spillWorker.ConfigureAwait(false); } catch (OperationCanceledException) { }
        _stop.Dispose();
        await DisposeCoreAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the subclass's resources.</summary>
    protected virtual ValueTask DisposeCoreAsync() => ValueTask.CompletedTask;

    private sealed class Pending(Alert alert, DateTimeOffset firstSeen)
    {
        public Alert Alert { get; } = alert;
        public DateTimeOffset FirstSeen { get; } = firstSeen;
        public int Count { get; set; } = 1;
        public int LateCount { get; set; }
        public bool Dispatched { get; set; }
    }
}
