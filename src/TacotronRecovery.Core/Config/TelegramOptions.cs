namespace TacotronRecovery.Core.Config;

/// <summary>Which notifications are sent (keys operators already use).</summary>
public sealed record TelegramNotifications
{
    /// <summary>Training started.</summary>
    public bool TrainingStart { get; init; } = true;
    /// <summary>Training completed.</summary>
    public bool TrainingComplete { get; init; } = true;
    /// <summary>Engine restarted.</summary>
    public bool TrainingRestart { get; init; } = true;
    /// <summary>Stopped early (exhausted or stopped by the operator).</summary>
    public bool EarlyStop { get; init; } = true;
    /// <summary>Critical incidents (NaN/Inf, critical mode).</summary>
    public bool ErrorAlerts { get; init; } = true;
    /// <summary>Progress reports with plots.</summary>
    public bool MetricsSummary { get; init; } = true;
    /// <summary>Recovery decisions (safe mode, guided-attention interventions).</summary>
    public bool QualityInterventions { get; init; } = true;
}

/// <summary>Telegram Bot API settings. The token never appears in logs, errors, objects or files.</summary>
public sealed record TelegramOptions
{
    /// <summary>Send to Telegram. Off or unconfigured: alerts go to the run's outbox with one warning.</summary>
    public bool Enabled { get; init; } = false;
    /// <summary>Bot token; usually <c>${TACOTRON_TELEGRAM_TOKEN}</c>. If empty, that environment variable is used.</summary>
    public string? BotToken { get; init; }
    /// <summary>Chat id (number or @channel).</summary>
    public string? ChatId { get; init; }
    /// <summary>Parse mode; only HTML is supported (every user string is escaped).</summary>
    public string ParseMode { get; init; } = "HTML";
    /// <summary>Disable link previews.</summary>
    public bool DisableWebPagePreview { get; init; } = true;
    /// <summary>Per-kind switches.</summary>
    public TelegramNotifications Notifications { get; init; } = new();
    /// <summary>Bot API base URL, for self-hosted servers; default the public API.</summary>
    public string? ApiBaseUrl { get; init; }
    /// <summary>Progress report every N steps.</summary>
    public int ProgressEverySteps { get; init; } = 100;

    // The compiler-generated ToString would print the token; never let it.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Enabled = ").Append(Enabled)
            .Append(", BotToken = ").Append(string.IsNullOrEmpty(BotToken) ? "(none)" : "***")
            .Append(", ChatId = ").Append(ChatId)
            .Append(", ApiBaseUrl = ").Append(ApiBaseUrl)
            .Append(", ProgressEverySteps = ").Append(ProgressEverySteps);
        return true;
    }
}
