using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace TacotronRecovery.Commands.Completers;

/// <summary>What the completers share: the typed word, quoting, and the session's paths.</summary>
internal static class CompletionText
{
    private static readonly char[] Special = " \t'\"`$&@(){};,|<>#\u2018\u2019\u201C\u201D".ToCharArray();

    /// <summary>The typed word without its opening quote (and closing one, if typed), and the quote used.</summary>
    public static (string Prefix, char? Quote) Parse(string? word)
    {
        word ??= "";
        if (word.Length > 0 && word[0] is '\'' or '"')
        {
            char q = word[0];
            var inner = word.Length > 1 && word[^1] == q ? word[1..^1] : word[1..];
            return (inner, q);
        }
        return (word, null);
    }

    /// <summary>The completion text for <paramref name="value"/>: quoted when it needs quotes or the user opened a quote.</summary>
    public static string Quote(string value, char? quote)
    {
        if (quote == '"') return "\"" + value.Replace("`", "``").Replace("\"", "`\"").Replace("$", "`$") + "\"";
        if (quote == '\'' || value.Length == 0 || value.IndexOfAny(Special) >= 0) return "'" + value.Replace("'", "''") + "'";
        return value;
    }

    /// <summary>True when <paramref name="prefix"/> starts <paramref name="candidate"/>, ignoring case.</summary>
    public static bool Matches(string candidate, string prefix) => candidate.StartsWith(prefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>True when the typed word is a path rather than a run name (rooted, '.', '~', a separator or a drive).</summary>
    public static bool LooksLikePath(string word) =>
        word.Length > 0 && (word[0] is '.' or '~' || word.IndexOfAny(['/', '\\', ':']) >= 0);

    /// <summary>
    /// A parameter the user already typed, as text (a constant, or a variable PowerShell could evaluate safely, e.g.
    /// a string or a DirectoryInfo), or null.
    /// </summary>
    public static string? Bound(IDictionary? fakeBoundParameters, string name)
    {
        if (fakeBoundParameters is null || !fakeBoundParameters.Contains(name)) return null;
        var value = fakeBoundParameters[name];
        if (value is PSObject o) value = o.BaseObject;
        var text = value switch { string s => s, FileSystemInfo f => f.FullName, PathInfo p => p.ProviderPath, null or IEnumerable => null, _ => value.ToString() };
        return string.IsNullOrWhiteSpace(text) ? null : text;
    }
}

/// <summary>
/// The current file-system directory and the -RunsRoot the user typed, as provider paths, the way the cmdlets see
/// them (<see cref="Engine.CmdletPaths"/>): on a PowerShell drive the current location is 'TD:/', which .NET cannot
/// open. A completer runs on the pipeline thread, where Runspace.SessionStateProxy refuses to work ("a pipeline is
/// already running"); a nested pipeline on the current runspace does not.
/// </summary>
internal sealed record SessionPaths(string Current, string? RunsRoot)
{
    private const string Script = """
        param($root)
        $p = $ExecutionContext.SessionState.Path
        $p.CurrentFileSystemLocation.ProviderPath
        if ($root) { $p.GetUnresolvedProviderPathFromPSPath($root) }
        """;

    /// <summary>The session's paths, with -RunsRoot from <paramref name="fakeBoundParameters"/> when typed.</summary>
    public static SessionPaths Get(IDictionary? fakeBoundParameters)
    {
        var root = CompletionText.Bound(fakeBoundParameters, "RunsRoot");
        if (Runspace.DefaultRunspace is null) return new SessionPaths(Directory.GetCurrentDirectory(), root);
        using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
        ps.AddScript(Script).AddArgument(root);
        var output = ps.Invoke();
        string current = output.Count > 0 && output[0]?.BaseObject is string c ? c : Directory.GetCurrentDirectory();
        string? resolved = root is null ? null : output.Count > 1 && output[1]?.BaseObject is string r ? r : root;
        return new SessionPaths(current, resolved);
    }
}
