using System.Globalization;
using System.Text;

namespace TacotronRecovery.Core.Text;

/// <summary>
/// ASCII transliteration of Latin text (the role <c>unidecode</c> plays in the reference): accented letters lose
/// their accents (é → e, Å → A), letters without a decomposition use a table (æ → ae, ß → ss, ø → o, ł → l,
/// þ → th), and typographic punctuation becomes ASCII (’ → ', – — → -, … → ...). Characters with no Latin
/// reading (漢, §, Greek, Cyrillic) are left unchanged so that the encoder can report them.
/// </summary>
public static class Transliteration
{
    private static readonly Dictionary<char, string> Table = new()
    {
        ['Æ'] = "AE", ['æ'] = "ae", ['Œ'] = "OE", ['œ'] = "oe", ['ß'] = "ss", ['ẞ'] = "SS",
        ['Ø'] = "O", ['ø'] = "o", ['Đ'] = "D", ['đ'] = "d", ['Ð'] = "D", ['ð'] = "d",
        ['Þ'] = "TH", ['þ'] = "th", ['Ł'] = "L", ['ł'] = "l", ['ı'] = "i", ['Ħ'] = "H", ['ħ'] = "h",
        ['Ŧ'] = "T", ['ŧ'] = "t", ['ĸ'] = "q", ['Ŋ'] = "NG", ['ŋ'] = "ng", ['ſ'] = "s", ['Ĳ'] = "IJ", ['ĳ'] = "ij",
        ['\u2018'] = "'", ['\u2019'] = "'", ['\u201A'] = "'", ['\u201B'] = "'", ['\u2032'] = "'",
        ['\u201C'] = "\"", ['\u201D'] = "\"", ['\u201E'] = "\"", ['\u201F'] = "\"", ['«'] = "\"", ['»'] = "\"",
        ['\u2010'] = "-", ['\u2011'] = "-", ['\u2012'] = "-", ['\u2013'] = "-", ['\u2014'] = "-", ['\u2015'] = "-", ['\u2212'] = "-",
        ['\u2026'] = "...", ['\u00A0'] = " ", ['\u2009'] = " ", ['\u202F'] = " ", ['\u00B4'] = "'", ['`'] = "'",
    };

    /// <summary>Transliterates every character of <paramref name="text"/> (see the type description).</summary>
    public static string ToAscii(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder(text.Length);
        foreach (char c in text) sb.Append(Char(c));
        return sb.ToString();
    }

    /// <summary>Transliterates one UTF-16 code unit; unknown non-Latin characters come back unchanged.</summary>
    public static string Char(char c)
    {
        if (c < 128) return c.ToString();
        if (Table.TryGetValue(c, out var s)) return s;
        var decomposed = c.ToString().Normalize(NormalizationForm.FormD);
        var sb = new StringBuilder(decomposed.Length);
        foreach (char d in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(d) != UnicodeCategory.NonSpacingMark) sb.Append(d);
        }
        var stripped = sb.ToString();
        // Only accept the decomposition when it leaves plain ASCII (é → e); otherwise keep the original (漢, Ω).
        return stripped.Length > 0 && stripped.All(ch => ch < 128) ? stripped : c.ToString();
    }
}
