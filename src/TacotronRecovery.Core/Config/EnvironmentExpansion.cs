using System.Text;

namespace TacotronRecovery.Core.Config;

/// <summary>
/// <c>${NAME}</c> and <c>${NAME:-default}</c> expansion of one config value, as in POSIX shells: the default is used
/// when the variable is unset or empty. <c>$${</c> writes a literal <c>${</c>. Names are <c>[A-Za-z_][A-Za-z0-9_]*</c>.
/// </summary>
public static class EnvironmentExpansion
{
    /// <summary>Reads the process environment.</summary>
    public static Func<string, string?> ProcessEnvironment { get; } = Environment.GetEnvironmentVariable;

    /// <summary>
    /// Expands every reference in <paramref name="value"/>. Returns false, with the variable's name in
    /// <paramref name="missing"/>, when a variable without a default is unset; false with <paramref name="missing"/>
    /// null when a reference is malformed (<paramref name="expanded"/> then holds the reason).
    /// </summary>
    public static bool TryExpand(string value, Func<string, string?> lookup, out string expanded, out string? missing)
    {
        missing = null;
        if (!value.Contains('$', StringComparison.Ordinal)) { expanded = value; return true; }
        var sb = new StringBuilder(value.Length);
        int i = 0;
        while (i < value.Length)
        {
            char c = value[i];
            if (c == '$' && i + 2 < value.Length && value[i + 1] == '$' && value[i + 2] == '{')
            {
                sb.Append("${");
                i += 3;
                continue;
            }
            if (c != '$' || i + 1 >= value.Length || value[i + 1] != '{')
            {
                sb.Append(c);
                i++;
                continue;
            }
            int close = value.IndexOf('}', i + 2);
            if (close < 0) { expanded = $"unclosed '${{' at character {i + 1}"; return false; }
            var body = value.AsSpan(i + 2, close - i - 2);
            int sep = body.IndexOf(":-", StringComparison.Ordinal);
            var name = (sep >= 0 ? body[..sep] : body).ToString();
            string? fallback = sep >= 0 ? body[(sep + 2)..].ToString() : null;
            if (!IsName(name)) { expanded = $"'${{{body}}}' is not a valid variable reference (expected ${{NAME}} or ${{NAME:-default}})"; return false; }
            var found = lookup(name);
            if (string.IsNullOrEmpty(found)) found = fallback;
            if (found is null) { missing = name; expanded = ""; return false; }
            sb.Append(found);
            i = close + 1;
        }
        expanded = sb.ToString();
        return true;
    }

    /// <summary>Escapes a literal value so that expansion gives it back unchanged (<c>${</c> becomes <c>$${</c>).</summary>
    public static string Escape(string value) => value.Replace("${", "$${", StringComparison.Ordinal);

    private static bool IsName(string name)
    {
        if (name.Length == 0 || !(char.IsAsciiLetter(name[0]) || name[0] == '_')) return false;
        foreach (var ch in name) if (!(char.IsAsciiLetterOrDigit(ch) || ch == '_')) return false;
        return true;
    }
}
