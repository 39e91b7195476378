using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace TacotronRecovery.Core.Text;

/// <summary>
/// Spells out numbers in English as the reference's <c>numbers.py</c> does (inflect without "and"): integers
/// ("123" → "one hundred twenty-three"), thousands separators ("1,000" → "one thousand"), years between 1001 and
/// 2999 read as years ("1984" → "nineteen eighty-four", "1905" → "nineteen oh five", "1900" → "nineteen hundred",
/// "2005" → "two thousand five"), ordinals ("21st" → "twenty-first"), and currency ("$3.50" → "three dollars,
/// fifty cents", "£2" → "two pounds", "€1" → "one euro"). One deliberate difference: decimals are read digit by
/// digit after the point ("3.14" → "three point one four"; the reference says "three point fourteen").
/// Percent signs are read as "percent".
/// </summary>
public static partial class NumberNormalizer
{
    private static readonly string[] Ones =
    [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
    ];

    private static readonly string[] Tens = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];

    private static readonly string[] Scales = ["", "thousand", "million", "billion", "trillion", "quadrillion", "quintillion"];

    [GeneratedRegex(@"[0-9][0-9,]+[0-9]")] private static partial Regex CommaNumber();
    [GeneratedRegex(@"(?<sym>[$£€])(?<num>[0-9.,]*[0-9]+)")] private static partial Regex Currency();
    [GeneratedRegex(@"[0-9]+\.[0-9]+")] private static partial Regex Decimal();
    [GeneratedRegex(@"(?<num>[0-9]+)(?:st|nd|rd|th)")] private static partial Regex Ordinal();
    [GeneratedRegex(@"[0-9]+")] private static partial Regex Integer();
    [GeneratedRegex(@"\s*%")] private static partial Regex Percent();

    /// <summary>Replaces every number in <paramref name="text"/> by words (see the type description).</summary>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = CommaNumber().Replace(text, m => m.Value.Replace(",", "", StringComparison.Ordinal));
        text = Currency().Replace(text, ExpandCurrency);
        text = Decimal().Replace(text, ExpandDecimal);
        text = Ordinal().Replace(text, m => ToOrdinal(NumberToWords(m.Groups["num"].Value)));
        text = Integer().Replace(text, m => ExpandNumber(m.Value));
        text = Percent().Replace(text, " percent");
        return text;
    }

    private static string ExpandCurrency(Match m)
    {
        var (unit, units, sub, subs) = m.Groups["sym"].Value switch
        {
            "$" => ("dollar", "dollars", "cent", "cents"),
            "£" => ("pound", "pounds", "penny", "pence"),
            _ => ("euro", "euros", "cent", "cents"),
        };
        var num = m.Groups["num"].Value;
        var parts = num.Split('.');
        if (parts.Length > 2) return num + " " + units;
        var whole = parts[0].Length > 0 ? BigInt(parts[0]) : 0;
        var fraction = parts.Length > 1 && parts[1].Length > 0 ? BigInt(parts[1]) : 0;
        string W(decimal n, string one, string many) => $"{n.ToString(CultureInfo.InvariantCulture)} {(n == 1 ? one : many)}";
        if (whole > 0 && fraction > 0) return W(whole, unit, units) + ", " + W(fraction, sub, subs);
        if (whole > 0) return W(whole, unit, units);
        if (fraction > 0) return W(fraction, sub, subs);
        return "zero " + units;
    }

    private static decimal BigInt(string digits) => decimal.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);

    private static string ExpandDecimal(Match m)
    {
        var dot = m.Value.IndexOf('.', StringComparison.Ordinal);
        var sb = new StringBuilder(m.Value[..dot]).Append(" point");
        foreach (char d in m.Value[(dot + 1)..]) sb.Append(' ').Append(Ones[d - '0']);
        return sb.ToString();
    }

    /// <summary>Reads an integer given as digits: years 1001–2999 as years, anything else as a cardinal.</summary>
    public static string ExpandNumber(string digits)
    {
        var trimmed = digits.TrimStart('0');
        if (trimmed.Length == 0) return "zero";
        if (trimmed.Length == 4)
        {
            int n = int.Parse(trimmed, CultureInfo.InvariantCulture);
            if (n > 1000 && n < 3000)
            {
                if (n == 2000) return "two thousand";
                if (n > 2000 && n < 2010) return "two thousand " + NumberToWords((n % 100).ToString(CultureInfo.InvariantCulture));
                if (n % 100 == 0) return NumberToWords((n / 100).ToString(CultureInfo.InvariantCulture)) + " hundred";
                var low = n % 100;
                return NumberToWords((n / 100).ToString(CultureInfo.InvariantCulture)) + " " +
                       (low < 10 ? "oh " + Ones[low] : BelowHundred(low));
            }
        }
        return NumberToWords(trimmed);
    }

    /// <summary>Cardinal words for a non-negative integer given as digits, grouped by thousands with commas
    /// ("12345" → "twelve thousand, three hundred forty-five"); more than 21 digits are read digit by digit.</summary>
    public static string NumberToWords(string digits)
    {
        var trimmed = digits.TrimStart('0');
        if (trimmed.Length == 0) return "zero";
        if (trimmed.Length > Scales.Length * 3) return string.Join(' ', trimmed.Select(d => Ones[d - '0']));
        var groups = new List<string>();
        int scale = 0;
        for (int end = trimmed.Length; end > 0; end -= 3, scale++)
        {
            int start = Math.Max(0, end - 3);
            int value = int.Parse(trimmed[start..end], CultureInfo.InvariantCulture);
            if (value == 0) continue;
            var words = BelowThousand(value);
            groups.Insert(0, scale == 0 ? words : words + " " + Scales[scale]);
        }
        return string.Join(", ", groups);
    }

    private static string BelowThousand(int n)
    {
        if (n < 100) return BelowHundred(n);
        var head = Ones[n / 100] + " hundred";
        return n % 100 == 0 ? head : head + " " + BelowHundred(n % 100);
    }

    private static string BelowHundred(int n) =>
        n < 20 ? Ones[n] : n % 10 == 0 ? Tens[n / 10] : Tens[n / 10] + "-" + Ones[n % 10];

    /// <summary>Turns cardinal words into ordinal words ("twenty-one" → "twenty-first", "twelve" → "twelfth").</summary>
    public static string ToOrdinal(string cardinal)
    {
        int cut = Math.Max(cardinal.LastIndexOf(' '), cardinal.LastIndexOf('-')) + 1;
        var head = cardinal[..cut];
        var last = cardinal[cut..];
        var ordinal = last switch
        {
            "one" => "first",
            "two" => "second",
            "three" => "third",
            "five" => "fifth",
            "eight" => "eighth",
            "nine" => "ninth",
            "twelve" => "twelfth",
            _ when last.EndsWith('y') => last[..^1] + "ieth",
            _ => last + "th",
        };
        return head + ordinal;
    }
}
