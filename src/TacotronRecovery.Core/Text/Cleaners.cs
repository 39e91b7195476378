using System.Text;
using System.Text.RegularExpressions;

namespace TacotronRecovery.Core.Text;

/// <summary>
/// Text cleaners with the names and order of the reference (<c>text/cleaners.py</c>):
/// <list type="bullet">
/// <item><c>basic_cleaners</c>: lower case, collapse whitespace.</item>
/// <item><c>transliteration_cleaners</c>: ASCII transliteration, lower case, collapse whitespace.</item>
/// <item><c>english_cleaners</c>: ASCII transliteration, lower case, numbers spelled out, abbreviations expanded,
/// symbols read as words (&amp; → and, a lone $ → dollars), double quotes removed, collapse whitespace.</item>
/// </list>
/// Whitespace is also trimmed at both ends. The reference's encoder drops double quotes silently; english_cleaners
/// removes them so they are not reported as unknown characters, which gives the same ids.
/// </summary>
public static partial class Cleaners
{
    /// <summary>Name of the English cleaner pipeline.</summary>
    public const string English = "english_cleaners";
    /// <summary>Name of the basic cleaner pipeline.</summary>
    public const string Basic = "basic_cleaners";
    /// <summary>Name of the transliteration cleaner pipeline.</summary>
    public const string Transliteration = "transliteration_cleaners";

    /// <summary>Cleaner names this implementation knows.</summary>
    public static IReadOnlyList<string> Names { get; } = [English, Basic, Transliteration];

    private static readonly (Regex Pattern, string Replacement)[] Abbreviations =
        new (string, string)[]
        {
            ("mrs", "misess"), ("mr", "mister"), ("dr", "doctor"), ("st", "saint"), ("co", "company"), ("jr", "junior"),
            ("maj", "major"), ("gen", "general"), ("drs", "doctors"), ("rev", "reverend"), ("lt", "lieutenant"),
            ("hon", "honorable"), ("sgt", "sergeant"), ("capt", "captain"), ("esq", "esquire"), ("ltd", "limited"),
            ("col", "colonel"), ("ft", "fort"),
        }.Select(p => (new Regex($@"\b{p.Item1}\.", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), p.Item2)).ToArray();

    [GeneratedRegex(@"\s+")] private static partial Regex Whitespace();

    /// <summary>Parses a cleaner list: names separated by commas, semicolons or spaces (e.g. <c>"english_cleaners"</c>).</summary>
    /// <exception cref="ArgumentException">A name is not one of <see cref="Names"/>; the message names it.</exception>
    public static IReadOnlyList<string> Parse(string cleaners)
    {
        ArgumentNullException.ThrowIfNull(cleaners);
        var names = cleaners.Split([',', ';', ' ', '[', ']', '\'', '"'], StringSplitOptions.RemoveEmptyEntries);
        foreach (var n in names)
        {
            if (!Names.Contains(n)) throw new ArgumentException($"Unknown text cleaner '{n}'. Known cleaners: {string.Join(", ", Names)}.", nameof(cleaners));
        }
        return names;
    }

    /// <summary>Runs the named cleaners in order over <paramref name="text"/>.</summary>
    /// <exception cref="ArgumentException">An unknown cleaner name.</exception>
    public static string Clean(string text, string cleaners)
    {
        foreach (var name in Parse(cleaners)) text = Run(name, text);
        return text;
    }

    /// <summary>The reference's english_cleaners.</summary>
    public static string EnglishCleaners(string text)
    {
        text = MapChars(text, transliterate: true, english: true);
        text = NumberNormalizer.Normalize(text);
        foreach (var (pattern, replacement) in Abbreviations) text = pattern.Replace(text, replacement);
        text = text.Replace("&", " and ", StringComparison.Ordinal)
                   .Replace("$", " dollars ", StringComparison.Ordinal)
                   .Replace("£", " pounds ", StringComparison.Ordinal)
                   .Replace("€", " euros ", StringComparison.Ordinal);
        return CollapseWhitespace(text);
    }

    /// <summary>The reference's basic_cleaners.</summary>
    public static string BasicCleaners(string text) => CollapseWhitespace(MapChars(text, transliterate: false, english: false));

    /// <summary>The reference's transliteration_cleaners.</summary>
    public static string TransliterationCleaners(string text) => CollapseWhitespace(MapChars(text, transliterate: true, english: false));

    /// <summary>Collapses runs of whitespace into one space and trims both ends.</summary>
    public static string CollapseWhitespace(string text) => Whitespace().Replace(text, " ").Trim();

    /// <summary>
    /// True when the cleaners turn the character <paramref name="c"/> into known symbols (or remove it), so the
    /// encoder uses this to report unknown characters with their position in the original text.
    /// </summary>
    public static bool IsHandled(char c, IReadOnlyList<string> cleaners)
    {
        bool english = cleaners.Contains(English);
        bool transliterate = english || cleaners.Contains(Transliteration);
        if (cleaners.Count == 0) return char.IsWhiteSpace(c) || Symbols.IdOfChar(c) >= 0;
        foreach (char m in MapChars(c.ToString(), transliterate, english))
        {
            if (char.IsWhiteSpace(m) || Symbols.IdOfChar(m) >= 0) continue;
            if (english && (char.IsAsciiDigit(m) || m is '$' or '£' or '€' or '%' or '&')) continue;
            return false;
        }
        return true;
    }

    private static string Run(string name, string text) => name switch
    {
        English => EnglishCleaners(text),
        Basic => BasicCleaners(text),
        Transliteration => TransliterationCleaners(text),
        _ => throw new ArgumentException($"Unknown text cleaner '{name}'.", nameof(name)),
    };

    private static string MapChars(string text, bool transliterate, bool english)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            var mapped = transliterate ? Text.Transliteration.Char(c) : c.ToString();
            foreach (char m in mapped)
            {
                if (english && m == '"') continue;
                sb.Append(char.ToLowerInvariant(m));
            }
        }
        return sb.ToString();
    }
}
