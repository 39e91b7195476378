using Telegram.Bot;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;
using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Core.Alerts;

/// <summary>
/// Sends alerts to a Telegram chat with Telegram.Bot from a background queue (<see cref="QueuedNotifier"/>).
/// <para>Each alert is one text message (HTML, link previews off) followed by one photo per PNG (multipart upload,
/// caption = title and file name). A media group was not used: it cannot carry a 4096-character text, and separate
/// requests let a partly delivered alert resume where it stopped.</para>
/// <para>Errors: 429 waits the answer's retry_after (the library's own blocking retry is off: RetryThreshold 0);
/// 5xx, timeouts and connection errors retry with exponential backoff and seeded jitter; after
/// <see cref="NotifierOptions.MaxAttempts"/> the alert goes to the outbox, and so does every later alert until the
/// outbox has been drained (order is kept). Other 4xx answers are final: the alert goes to <c>outbox/failed/</c>.</para>
/// <para>The token lives only inside the client. Exception messages are scrubbed and URLs are never logged.</para>
/// </summary>
public sealed class TelegramNotifier : QueuedNotifier
{
    private readonly TelegramBotClient _client;
    private readonly HttpClient _http;
    private readonly ChatId _chat;
    private readonly string _chatText;
    private readonly bool _disablePreview;
    private readonly Random _jitter;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private DateTimeOffset _lastRequest = DateTimeOffset.MinValue;
    private DateTimeOffset _lastDrain = DateTimeOffset.MinValue;
    private DateTimeOffset _notBefore = DateTimeOffset.MinValue; // a long 429 retry_after: no request before this

    /// <summary>
    /// A notifier for <paramref name="telegram"/>'s chat with <paramref name="token"/> (already resolved, see
    /// <see cref="TelegramTokenResolver"/>). <paramref name="outboxDirectory"/> is the run's <c>outbox/</c>.
    /// <paramref name="switches"/> null sends every kind.
    /// </summary>
    public TelegramNotifier(TelegramOptions telegram, string token, string outboxDirectory, TelegramNotifications? switches = null,
        NotifierOptions? options = null, TimeProvider? time = null)
        : base(outboxDirectory, switches, options, time, new SecretScrubber(token))
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        if (string.IsNullOrWhiteSpace(telegram.ChatId)) throw new ArgumentException("telegram.chat_id is not set.", nameof(telegram));
        _chatText = telegram.ChatId!.Trim();
        _chat = long.TryParse(_chatText, out var id) ? new ChatId(id) : new ChatId(_chatText);
        _disablePreview = telegram.DisableWebPagePreview;
        _jitter = new Random(Options.Seed);
        _http = new HttpClient { Timeout = Options.RequestTimeout };
        var clientOptions = new TelegramBotClientOptions(token, string.IsNullOrWhiteSpace(telegram.ApiBaseUrl) ? null : telegram.ApiBaseUrl.TrimEnd('/'))
        {
            RetryThreshold = 0, // never block inside the library; 429 is scheduled here
        };
        _client = new TelegramBotClient(clientOptions, _http);
    }

    /// <summary>
    /// Sends the outbox's alerts in order, stopping at the first one that still cannot be sent. Returns how many were sent.
    /// </summary>
    public async Task<int> DrainOutboxAsync(CancellationToken cancellationToken = default)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await DrainLockedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <inheritdoc />
    protected override async Task ProcessAsync(Alert alert, DateTimeOffset queuedAt, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (Time.GetUtcNow() < _notBefore)
            {
                var waiting = RateLimitedReason();
                var file = Outbox.Write(alert, queuedAt, 0, waiting);
                Report(alert, DeliveryStatus.Queued, outboxFile: file, reason: waiting);
                return;
            }
            if (Outbox.Pending().Count > 0)
            {
                // Earlier alerts wait in the outbox: keep the order, then try to drain if it is time.
                var file = Outbox.Write(alert, queuedAt, 0, "earlier alerts are waiting in the outbox");
                Report(alert, DeliveryStatus.Queued, outboxFile: file, reason: "earlier alerts are waiting in the outbox");
                if (Time.GetUtcNow() - _lastDrain >= Options.OutboxRetryInterval) await DrainLockedAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            var (outcome, parts, messageId, reason) = await SendAsync(alert, 0, cancellationToken).ConfigureAwait(false);
            switch (outcome)
            {
                case Outcome.Sent:
                    Report(alert, DeliveryStatus.Sent, messageId, _chatText);
                    break;
                case Outcome.Retryable:
                {
                    var file = Outbox.Write(alert, queuedAt, parts, reason);
                    _lastDrain = Time.GetUtcNow();
                    Report(alert, DeliveryStatus.Queued, outboxFile: file, reason: reason);
                    break;
                }
                default:
                {
                    var file = Outbox.Write(alert, queuedAt, parts, reason, failed: true);
                    Report(alert, DeliveryStatus.Failed, outboxFile: file, reason: reason);
                    break;
                }
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <inheritdoc />
    protected override async Task OnIdleAsync(CancellationToken cancellationToken)
    {
        if (Outbox.Pending().Count == 0) return;
        await DrainOutboxAsync(cancellationToken).ConfigureAwait(false);
    }

    private string RateLimitedReason() =>
        $"Telegram asked to wait until {_notBefore.UtcDateTime:HH:mm:ss} UTC (429 retry_after); the outbox is sent then";

    private async Task<int> DrainLockedAsync(CancellationToken cancellationToken)
    {
        if (Time.GetUtcNow() < _notBefore) return 0; // honour the long retry_after for the outbox too
        _lastDrain = Time.GetUtcNow();
        int sent = 0;
        foreach (var file in Outbox.Pending())
        {
            OutboxEntry entry;
            try
            {
                entry = Outbox.Read(file);
            }
            catch (Exception e) when (e is IOException or System.Text.Json.JsonException or InvalidDataException)
            {
                Outbox.MoveToFailed(file, "unreadable outbox entry: " + Scrubber.Describe(e));
                continue;
            }
            var (outcome, parts, messageId, reason) = await SendAsync(entry.Alert, entry.PartsSent, cancellationToken).ConfigureAwait(false);
            if (outcome == Outcome.Sent)
            {
                Outbox.Remove(file);
                sent++;
                Report(entry.Alert, DeliveryStatus.Sent, messageId, _chatText);
                continue;
            }
            if (outcome == Outcome.Final)
            {
                var failed = Outbox.MoveToFailed(file, reason);
                Report(entry.Alert, DeliveryStatus.Failed, outboxFile: failed, reason: reason);
                continue;
            }
            if (parts != entry.PartsSent) Outbox.UpdateProgress(file, parts, reason);
            break; // still unreachable: keep the order, try again later
        }
        return sent;
    }

    private enum Outcome { Sent, Retryable, Final }

    private async Task<(Outcome Outcome, int Parts, int? MessageId, string Reason)> SendAsync(Alert alert, int partsSent, CancellationToken cancellationToken)
    {
        var rendered = AlertRenderer.Render(alert);
        int parts = partsSent;
        int? messageId = null;
        int total = 1 + alert.Photos.Count;
        while (parts < total)
        {
            int part = parts;
            var (outcome, id, reason) = await WithRetriesAsync(async ct =>
            {
                if (part == 0)
                {
                    var message = await _client.SendMessage(_chat, rendered.Text, ParseMode.Html,
                        linkPreviewOptions: new LinkPreviewOptions { IsDisabled = _disablePreview }, cancellationToken: ct).ConfigureAwait(false);
                    return message.MessageId;
                }
                var photo = alert.Photos[part - 1];
                if (!System.IO.File.Exists(photo)) return (int?)null; // a missing plot is not worth failing the alert for
                await using var stream = System.IO.File.OpenRead(photo);
                var sent = await _client.SendPhoto(_chat, InputFile.FromStream(stream, Path.GetFileName(photo)), rendered.PhotoCaptions[part - 1],
                    ParseMode.Html, cancellationToken: ct).ConfigureAwait(false);
                return sent.MessageId;
            }, cancellationToken).ConfigureAwait(false);
            if (outcome != Outcome.Sent) return (outcome, parts, messageId, reason);
            if (part == 0) messageId = id;
            parts++;
        }
        return (Outcome.Sent, parts, messageId, "");
    }

    private async Task<(Outcome Outcome, int? Id, string Reason)> WithRetriesAsync(Func<CancellationToken, Task<int?>> request, CancellationToken cancellationToken)
    {
        int failures = 0, rateLimited = 0;
        while (true)
        {
            var wait = _lastRequest + Options.MinSendInterval - Time.GetUtcNow();
            try
            {
                if (wait > TimeSpan.Zero) await Task.Delay(wait, Time, cancellationToken).ConfigureAwait(false);
                _lastRequest = Time.GetUtcNow();
                return (Outcome.Sent, await request(cancellationToken).ConfigureAwait(false), "");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return (Outcome.Retryable, null, "the notifier stopped before the alert was sent");
            }
            catch (ApiRequestException e) when (e.ErrorCode == 429)
            {
                var retryAfter = TimeSpan.FromSeconds(Math.Max(1, e.Parameters?.RetryAfter ?? 1));
                if (++rateLimited > Options.MaxRateLimitRetries || retryAfter > Options.MaxRetryAfter)
                {
                    _notBefore = Time.GetUtcNow() + retryAfter;
                    return (Outcome.Retryable, null, $"Telegram rate limit (429, retry after {retryAfter.TotalSeconds:0} s)");
                }
                if (!await DelayAsync(retryAfter, cancellationToken).ConfigureAwait(false))
                    return (Outcome.Retryable, null, "the notifier stopped before the alert was sent");
            }
            catch (ApiRequestException e) when (e.ErrorCode < 500)
            {
                return (Outcome.Final, null, $"Telegram refused the alert ({e.ErrorCode}): {Scrubber.Scrub(e.Message)}");
            }
            catch (Exception e) when (e is RequestException or HttpRequestException or IOException or TaskCanceledException or TimeoutException)
            {
                var reason = e is ApiRequestException api ? $"Telegram error {api.ErrorCode}: {Scrubber.Scrub(api.Message)}"
                    : e is TaskCanceledException or TimeoutException ? $"no answer from Telegram within {Options.RequestTimeout.TotalSeconds:0} s"
                    : "Telegram unreachable: " + Scrubber.Describe(e);
                if (++failures >= Options.MaxAttempts) return (Outcome.Retryable, null, reason);
                var backoff = Options.BackoffBase * Math.Pow(2, failures - 1);
                if (backoff > Options.BackoffMax) backoff = Options.BackoffMax;
                double jitter;
                lock (_jitter) jitter = 0.5 + _jitter.NextDouble();
                if (!await DelayAsync(backoff * jitter, cancellationToken).ConfigureAwait(false))
                    return (Outcome.Retryable, null, reason);
            }
        }
    }

    private async Task<bool> DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, Time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    protected override ValueTask DisposeCoreAsync()
    {
        _http.Dispose();
        _sendLock.Dispose();
        return ValueTask.CompletedTask;
    }
}
