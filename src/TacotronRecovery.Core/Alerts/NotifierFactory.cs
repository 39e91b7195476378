using System.Security;
using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Core.Alerts;

/// <summary>Chooses the notifier for a config: Telegram when enabled and configured, else the outbox with one warning.</summary>
public static class NotifierFactory
{
    /// <summary>
    /// A <see cref="TelegramNotifier"/> when <c>telegram.enabled</c> is true, a chat id is set and a token is found
    /// (<see cref="TelegramTokenResolver"/>); otherwise an <see cref="OutboxNotifier"/> that warns once through
    /// <paramref name="warn"/>. <paramref name="applySwitches"/> false sends every kind (manual alerts).
    /// </summary>
    public static INotifier Create(TelegramOptions telegram, string outboxDirectory, Action<string>? warn = null, SecureString? token = null,
        bool applySwitches = true, NotifierOptions? options = null, TimeProvider? time = null, Func<string, string?>? environment = null)
    {
        var switches = applySwitches ? telegram.Notifications : null;
        string? reason = null;
        var resolved = TelegramTokenResolver.Resolve(telegram, environment, token);
        if (!telegram.Enabled) reason = "telegram.enabled is false";
        else if (string.IsNullOrWhiteSpace(telegram.ChatId)) reason = "telegram.chat_id is not set";
        else if (resolved is null) reason = $"no bot token: set telegram.bot_token, the {TelegramTokenResolver.EnvironmentVariable} environment variable or pass a SecureString";
        if (reason is not null)
            return new OutboxNotifier(outboxDirectory, reason, warn, switches, options, time, new SecretScrubber(resolved, telegram.BotToken));
        return new TelegramNotifier(telegram, resolved!, outboxDirectory, switches, options, time);
    }
}
