using System.Text;
using System.Text.RegularExpressions;
using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Core.Text;

/// <summary>A character the symbol set cannot represent, with its 0-based position (UTF-16 index) in the original text.</summary>
/// <param name="Character">The character (a surrogate pair stays one string), or an ARPAbet token from braces.</param>
/// <param name="Position">0-based index in the text given to <see cref="TextEncoder.Encode"/>.</param>
public sealed record UnknownCharacter(string Character, int Position);

/// <summary>The result of encoding one transcript.</summary>
/// <param name="Ids">Symbol ids (unknown characters left out).</param>
/// <param name="CleanedText">The text after the cleaners, ARPAbet groups kept in braces.</param>
/// <param name="Unknown">Characters the symbol set cannot represent, in text order.</param>
/// <param name="Policy">The policy that decided what the unknown characters mean.</param>
public sealed record EncodedText(int[] Ids, string CleanedText, IReadOnlyList<UnknownCharacter> Unknown, UnknownCharacterPolicy Policy)
{
    /// <summary>False when unknown characters were found and the policy is <see cref="UnknownCharacterPolicy.Error"/>.</summary>
    public bool Succeeded => Unknown.Count == 0 || Policy == UnknownCharacterPolicy.Drop;

    /// <summary>One line describing the unknown characters (e.g. <c>unknown characters '§' at 4, '漢' at 9</c>), or null when there are none.</summary>
    public string? Describe() => Unknown.Count == 0
        ? null
        : (Policy == UnknownCharacterPolicy.Drop ? "dropped " : "") + "unknown characters " +
          string.Join(", ", Unknown.Select(u => $"'{u.Character}' (U+{char.ConvertToUtf32(u.Character, 0):X4}) at {u.Position}"));
}

/// <summary>
/// Turns transcripts into symbol ids as the reference's <c>text_to_sequence</c> does: text outside braces goes
/// through the cleaners; text inside braces is ARPAbet (<c>"{HH AH0 L OW1} world"</c>) and is not cleaned.
/// Unlike the reference, characters the symbol set cannot represent are not dropped silently: they are collected
/// with their position and the <see cref="UnknownCharacterPolicy"/> decides whether the row fails or the characters
/// are dropped with a warning.
/// </summary>
public sealed partial class TextEncoder
{
    private readonly string _cleanerSpec;
    private readonly IReadOnlyList<string> _cleaners;

    /// <summary>Creates an encoder.</summary>
    /// <param name="cleaners">Cleaner names (see <see cref="Cleaners"/>), e.g. <c>"english_cleaners"</c>.</param>
    /// <param name="policy">What unknown characters mean.</param>
    /// <exception cref="ArgumentException">An unknown cleaner name.</exception>
    public TextEncoder(string cleaners = Cleaners.English, UnknownCharacterPolicy policy = UnknownCharacterPolicy.Error)
    {
        _cleanerSpec = cleaners;
        _cleaners = Cleaners.Parse(cleaners);
        Policy = policy;
    }

    /// <summary>Creates an encoder from the data options' cleaners and unknown-character policy.</summary>
    public TextEncoder(DataOptions options) : this(options.TextCleaners, options.UnknownCharacters) { }

    /// <summary>The unknown-character policy.</summary>
    public UnknownCharacterPolicy Policy { get; }

    [GeneratedRegex(@"\{(.+?)\}")] private static partial Regex Braces();

    /// <summary>Encodes <paramref name="text"/> into symbol ids.</summary>
    public EncodedText Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length);
        var unknown = new List<UnknownCharacter>();
        var cleaned = new StringBuilder(text.Length);
        int at = 0;
        foreach (Match m in Braces().Matches(text))
        {
            EncodePlain(text, at, m.Index - at, ids, unknown, cleaned);
            EncodeArpabet(m.Groups[1], ids, unknown, cleaned);
            at = m.Index + m.Length;
        }
        EncodePlain(text, at, text.Length - at, ids, unknown, cleaned);
        return new EncodedText(ids.ToArray(), cleaned.ToString(), unknown, Policy);
    }

    private void EncodePlain(string text, int start, int length, List<int> ids, List<UnknownCharacter> unknown, StringBuilder cleanedText)
    {
        if (length <= 0) return;
        var segment = text.Substring(start, length);
        var known = new StringBuilder(segment.Length);
        for (int i = 0; i < segment.Length; i++)
        {
            bool pair = char.IsHighSurrogate(segment[i]) && i + 1 < segment.Length && char.IsLowSurrogate(segment[i + 1]);
            if (pair || !Cleaners.IsHandled(segment[i], _cleaners))
            {
                unknown.Add(new UnknownCharacter(segment.Substring(i, pair ? 2 : 1), start + i));
            }
            else
            {
                known.Append(segment[i]);
            }
            if (pair) i++;
        }
        // Unknown characters leave before cleaning, so "a § b" becomes "a b", not "a  b".
        segment = known.ToString();
        if (segment.Length == 0) return;
        var cleaned = _cleaners.Count == 0 ? segment : Cleaners.Clean(segment, _cleanerSpec);
        // Keep the spaces around an ARPAbet group that the whole-text whitespace collapse would keep.
        if (start > 0 && char.IsWhiteSpace(segment[0]) && cleaned.Length > 0) cleaned = " " + cleaned;
        if (start + length < text.Length && char.IsWhiteSpace(segment[^1]) && cleaned.Length > 0) cleaned += " ";
        if (cleaned.Trim().Length == 0 && start > 0 && start + length < text.Length && segment.Length > 0) cleaned = " ";
        foreach (char c in cleaned)
        {
            int id = Symbols.IdOfChar(c);
            if (id >= 0) { ids.Add(id); cleanedText.Append(c); }
        }
    }

    private static void EncodeArpabet(Group group, List<int> ids, List<UnknownCharacter> unknown, StringBuilder cleanedText)
    {
        var kept = new List<string>();
        foreach (Match token in Regex.Matches(group.Value, @"\S+"))
        {
            int id = Symbols.IdOfArpabet(token.Value);
            if (id < 0) { unknown.Add(new UnknownCharacter(token.Value, group.Index + token.Index)); continue; }
            ids.Add(id);
            kept.Add(token.Value);
        }
        if (kept.Count > 0) cleanedText.Append('{').Append(string.Join(' ', kept)).Append('}');
    }

    /// <summary>
    /// Turns ids back into text as the reference's <c>sequence_to_text</c> does: ARPAbet symbols in braces, adjacent
    /// groups merged (<c>{HH AH0}</c>), the pad as '_'.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An id outside 0..147.</exception>
    public static string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var sb = new StringBuilder();
        foreach (int id in ids)
        {
            var s = Symbols.Symbol(id);
            if (s.Length > 1 && s[0] == '@') sb.Append('{').Append(s, 1, s.Length - 1).Append('}');
            else sb.Append(s);
        }
        return sb.Replace("}{", " ").ToString();
    }
}
