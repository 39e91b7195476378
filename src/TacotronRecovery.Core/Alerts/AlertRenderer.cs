using System.Globalization;
using System.Text;

namespace TacotronRecovery.Core.Alerts;

/// <summary>An alert rendered for Telegram's HTML parse mode.</summary>
/// <param name="Text">Message text (≤ <see cref="AlertRenderer.MaxMessageLength"/>).</param>
/// <param name="PhotoCaptions">One caption per photo (each ≤ <see cref="AlertRenderer.MaxCaptionLength"/>).</param>
/// <param name="Truncated">True when the text had to be cut.</param>
public sealed record RenderedAlert(string Text, IReadOnlyList<string> PhotoCaptions, bool Truncated);

/// <summary>
/// Renders an <see cref="Alert"/> as Telegram HTML. Every user string is escaped (<see cref="Escape"/>); the markup is
/// only this renderer's own tags. Limits are enforced on the HTML length (stricter than Telegram's count after
/// entity parsing): message ≤ 4096, caption ≤ 1024 characters; what does not fit is cut at a line or character
/// boundary (never inside an entity, a tag or a surrogate pair) and ends with <see cref="TruncationMarker"/>.
/// </summary>
public static class AlertRenderer
{
    /// <summary>Telegram's message limit.</summary>
    public const int MaxMessageLength = 4096;
    /// <summary>Telegram's caption limit.</summary>
    public const int MaxCaptionLength = 1024;
    /// <summary>Appended to cut text.</summary>
    public const string TruncationMarker = "\n… (truncated)";

    /// <summary>Escapes text for Telegram HTML: <c>&amp;</c>, <c>&lt;</c>, <c>&gt;</c> and <c>"</c> become entities.</summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var sb = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            sb.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                _ => c.ToString(),
            });
        }
        return sb.ToString();
    }

    /// <summary>Headline label of a kind.</summary>
    public static string Label(AlertKind kind) => kind switch
    {
        AlertKind.Critical => "🔴 CRITICAL",
        AlertKind.RecoveryStarted => "🛠 RECOVERY",
        AlertKind.Progress => "📈 PROGRESS",
        AlertKind.Success => "✅ SUCCESS",
        AlertKind.TrainingStart => "▶️ TRAINING STARTED",
        AlertKind.TrainingComplete => "🏁 TRAINING COMPLETE",
        AlertKind.Restart => "🔁 RESTART",
        AlertKind.EarlyStop => "⏹ EARLY STOP",
        AlertKind.Warning => "⚠️ WARNING",
        _ => "ℹ️ INFO",
    };

    /// <summary>Renders the message text and the photo captions.</summary>
    public static RenderedAlert Render(Alert alert)
    {
        var blocks = new List<Block>();
        var header = $"<b>{Escape(Label(alert.Kind))}</b>";
        blocks.Add(new Block(header + (alert.Title.Length > 0 ? " · <b>" : ""), alert.Title, (alert.Title.Length > 0 ? "</b>" : "") +
            (alert.Count > 1 ? $" ×{alert.Count.ToString(CultureInfo.InvariantCulture)}" : "")));
        var context = new List<string>();
        if (!string.IsNullOrEmpty(alert.Run)) context.Add("run " + alert.Run);
        if (alert.Step is { } step) context.Add("step " + step.ToString(CultureInfo.InvariantCulture));
        if (context.Count > 0) blocks.Add(new Block("\n", string.Join(" · ", context), ""));
        if (alert.Count > 1) blocks.Add(new Block("\n<i>", $"repeated {alert.Count} times within the de-duplication window", "</i>"));
        if (alert.Lines.Count > 0) blocks.Add(new Block("\n", "", ""));
        foreach (var line in alert.Lines) blocks.Add(new Block("\n• ", line, ""));
        if (alert.Recommendations.Count > 0)
        {
            blocks.Add(new Block("\n\n<b>", "Recommendations", "</b>"));
            foreach (var r in alert.Recommendations) blocks.Add(new Block("\n→ ", r, ""));
        }
        if (alert.Time != default)
            blocks.Add(new Block("\n\n<i>", alert.Time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture), "</i>"));
        var (text, truncated) = Fit(blocks, MaxMessageLength);

        var captions = new List<string>();
        for (int i = 0; i < alert.Photos.Count; i++)
        {
            var name = Path.GetFileName(alert.Photos[i]);
            var title = alert.Title.Length > 0 ? alert.Title : Label(alert.Kind);
            var (caption, _) = Fit(new List<Block>
            {
                new("<b>", title, "</b>"),
                new(alert.Step is { } s ? $" · step {s}\n" : "\n", name, ""),
            }, MaxCaptionLength);
            captions.Add(caption);
        }
        return new RenderedAlert(text, captions, truncated);
    }

    /// <summary>A piece of output: trusted HTML prefix and suffix around untrusted raw text.</summary>
    private readonly record struct Block(string Prefix, string Raw, string Suffix);

    private static (string Text, bool Truncated) Fit(List<Block> blocks, int limit)
    {
        var sb = new StringBuilder();
        for (int b = 0; b < blocks.Count; b++)
        {
            var block = blocks[b];
            var html = block.Prefix + Escape(block.Raw) + block.Suffix;
            if (sb.Length + html.Length <= limit && (b == blocks.Count - 1 || sb.Length + html.Length <= limit - TruncationMarker.Length || FitsAll(blocks, b + 1, sb.Length + html.Length, limit)))
            {
                sb.Append(html);
                continue;
            }
            // Cut this block's raw text so that prefix + escaped part + suffix + marker fits.
            int room = limit - TruncationMarker.Length - sb.Length - block.Prefix.Length - block.Suffix.Length;
            if (room > 0)
            {
                var part = new StringBuilder();
                int used = 0;
                for (int i = 0; i < block.Raw.Length; i++)
                {
                    int width = char.IsHighSurrogate(block.Raw[i]) && i + 1 < block.Raw.Length ? 2 : 1;
                    var piece = Escape(block.Raw.Substring(i, width));
                    if (used + piece.Length > room) break;
                    part.Append(piece);
                    used += piece.Length;
                    i += width - 1;
                }
                if (part.Length > 0) sb.Append(block.Prefix).Append(part).Append(block.Suffix);
            }
            sb.Append(TruncationMarker);
            return (sb.ToString(), true);
        }
        return (sb.ToString(), false);
    }

    private static bool FitsAll(List<Block> blocks, int from, int length, int limit)
    {
        for (int i = from; i < blocks.Count && length <= limit; i++) length += blocks[i].Prefix.Length + Escape(blocks[i].Raw).Length + blocks[i].Suffix.Length;
        return length <= limit;
    }
}
