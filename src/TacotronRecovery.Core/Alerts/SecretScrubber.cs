using System.Text.RegularExpressions;

namespace TacotronRecovery.Core.Alerts;

/// <summary>
/// Removes secrets from text before it reaches a log line, an exception message, an object or a file: every known
/// secret, anything shaped like a bot token (<c>digits:35+ characters</c>) and the token part of <c>/bot…/</c> URLs
/// become <c>***</c>.
/// </summary>
public sealed partial class SecretScrubber
{
    private readonly string[] _secrets;

    /// <summary>A scrubber for the given secrets (null and empty ones are ignored).</summary>
    public SecretScrubber(params string?[] secrets) =>
        _secrets = secrets.Where(s => !string.IsNullOrEmpty(s)).Select(s => s!).Distinct().OrderByDescending(s => s.Length).ToArray();

    /// <summary>The text with every secret replaced by <c>***</c>.</summary>
    public string Scrub(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        foreach (var s in _secrets) text = text.Replace(s, "***", StringComparison.Ordinal);
        text = BotUrlRegex().Replace(text, "/bot***/");
        return TokenShapeRegex().Replace(text, "***");
    }

    /// <summary>An exception's type and scrubbed message (inner messages included), for a warning or an outbox note.</summary>
    public string Describe(Exception e)
    {
        var parts = new List<string>();
        for (var x = e; x is not null && parts.Count < 4; x = x.InnerException) parts.Add($"{x.GetType().Name}: {x.Message}");
        return Scrub(string.Join(" ← ", parts));
    }

    [GeneratedRegex(@"/bot[^/\s]+/")]
    private static partial Regex BotUrlRegex();

    [GeneratedRegex(@"\b\d{5,}:[A-Za-z0-9_-]{30,}")]
    private static partial Regex TokenShapeRegex();
}
