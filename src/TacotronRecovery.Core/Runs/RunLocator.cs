using TacotronRecovery.Core.Contract;

namespace TacotronRecovery.Core.Runs;

/// <summary>Turns what a user typed for <c>-Run</c> into a run directory.</summary>
public static class RunLocator
{
    /// <summary>Environment variable naming the default runs root.</summary>
    public const string RunsRootVariable = "TACOTRON_RUNS";

    /// <summary>
    /// The runs root: <paramref name="runsRoot"/>, else <c>$env:TACOTRON_RUNS</c>, else <c>runs</c>; relative
    /// paths are resolved against <paramref name="baseDirectory"/> (default: the process working directory).
    /// </summary>
    public static string RunsRoot(string? runsRoot, string? baseDirectory = null)
    {
        var root = !string.IsNullOrWhiteSpace(runsRoot) ? runsRoot
            : Environment.GetEnvironmentVariable(RunsRootVariable) is { Length: > 0 } env ? env
            : "runs";
        return Path.GetFullPath(root, baseDirectory ?? Directory.GetCurrentDirectory());
    }

    /// <summary>
    /// Resolves <paramref name="run"/>: a path (rooted, containing a separator, or starting with '.') to an existing
    /// folder, or an existing folder in <paramref name="baseDirectory"/> that holds a <c>run.json</c>, is used as is;
    /// otherwise it is a run name under <see cref="RunsRoot"/>. An unknown run throws <see cref="RunDataException"/>
    /// RunNotFound listing the runs with similar names (or all runs when none is similar).
    /// </summary>
    public static RunDirectory Resolve(string run, string? runsRoot, string? baseDirectory = null)
    {
        if (string.IsNullOrWhiteSpace(run)) throw new ArgumentException("A run name or path is required.", nameof(run));
        var baseDir = baseDirectory ?? Directory.GetCurrentDirectory();
        var asPath = Path.GetFullPath(run, baseDir);
        bool looksLikePath = Path.IsPathRooted(run) || run.StartsWith('.') ||
                             run.Contains(Path.DirectorySeparatorChar) || run.Contains(Path.AltDirectorySeparatorChar);
        if (Directory.Exists(asPath) && (looksLikePath || File.Exists(Path.Combine(asPath, RunFiles.State))))
            return new RunDirectory(asPath);
        if (looksLikePath)
            throw new RunDataException("RunNotFound", run, $"The run folder '{asPath}' does not exist.");

        var root = RunsRoot(runsRoot, baseDir);
        var candidate = Path.Combine(root, run);
        if (Directory.Exists(candidate)) return new RunDirectory(candidate);

        var names = ListRuns(root).Select(r => r.Name).ToList();
        string hint;
        if (names.Count == 0)
        {
            hint = Directory.Exists(root) ? $" There are no runs under '{root}'." : $" The runs root '{root}' does not exist (set -RunsRoot or ${RunsRootVariable}).";
        }
        else
        {
            var near = Nearby(run, names);
            hint = near.Count > 0
                ? $" Did you mean: {string.Join(", ", near)}?"
                : $" Runs under '{root}': {string.Join(", ", names.Take(10))}{(names.Count > 10 ? ", ..." : "")}.";
        }
        throw new RunDataException("RunNotFound", run, $"No run named '{run}' under '{root}'.{hint}");
    }

    /// <summary>Run directories directly under <paramref name="root"/> (folders holding a run.json or metrics.jsonl), by name.</summary>
    public static IReadOnlyList<RunDirectory> ListRuns(string root)
    {
        if (!Directory.Exists(root)) return Array.Empty<RunDirectory>();
        return Directory.EnumerateDirectories(root)
            .Where(d => File.Exists(Path.Combine(d, RunFiles.State)) || File.Exists(Path.Combine(d, RunFiles.Metrics)))
            .Select(d => new RunDirectory(d))
            .OrderBy(r => r.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Names within edit distance 3 (or containing / contained in <paramref name="name"/>), closest first, at most 5.</summary>
    internal static IReadOnlyList<string> Nearby(string name, IEnumerable<string> names) =>
        names.Select(n => (n, d: EditDistance.Between(name.ToLowerInvariant(), n.ToLowerInvariant())))
            .Where(x => x.d <= 3 || x.n.Contains(name, StringComparison.OrdinalIgnoreCase) || name.Contains(x.n, StringComparison.OrdinalIgnoreCase))
            .OrderBy(x => x.d).ThenBy(x => x.n, StringComparer.Ordinal)
            .Take(5).Select(x => x.n).ToList();
}
