using System.Runtime.InteropServices;
using System.Security;
using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Core.Alerts;

/// <summary>
/// Finds the bot token: <see cref="TelegramOptions.BotToken"/> (after <c>${}</c> expansion; empty or the redaction
/// marker <c>***</c> count as unset), else the environment variable <see cref="EnvironmentVariable"/>, else a
/// SecureString (e.g. Send-TrainingAlert -Token).
/// </summary>
public static class TelegramTokenResolver
{
    /// <summary>The environment variable holding the token.</summary>
    public const string EnvironmentVariable = "TACOTRON_TELEGRAM_TOKEN";

    /// <summary>The token, or null when none is available.</summary>
    public static string? Resolve(TelegramOptions telegram, Func<string, string?>? environment = null, SecureString? secure = null)
    {
        var configured = telegram.BotToken?.Trim();
        if (!string.IsNullOrEmpty(configured) && configured != ConfigWriter.RedactedValue) return configured;
        var fromEnv = (environment ?? EnvironmentExpansion.ProcessEnvironment)(EnvironmentVariable)?.Trim();
        if (!string.IsNullOrEmpty(fromEnv)) return fromEnv;
        if (secure is null || secure.Length == 0) return null;
        var ptr = Marshal.SecureStringToGlobalAllocUnicode(secure);
        try { return Marshal.PtrToStringUni(ptr); }
        finally { Marshal.ZeroFreeGlobalAllocUnicode(ptr); }
    }
}
