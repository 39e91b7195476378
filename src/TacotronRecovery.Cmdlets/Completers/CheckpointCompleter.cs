using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Language;
using TacotronRecovery.Core.Checkpoints;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Commands.Completers;

/// <summary>
/// Completes -Checkpoint with the checkpoint files of the run named by -Run on the same command line (resolved as the
/// cmdlets resolve it, -RunsRoot included), newest first: the manifest's entries and any .ckpt file it does not know.
/// The completion is the file's path (relative to the current location when inside it, quoted when needed); the typed
/// word matches the file name or the path by prefix, ignoring case; the tooltip shows step, Good, loss, Diagonality
/// and when it was saved. Without -Run, for an unknown or unreadable run, or when nothing matches, it gives nothing of
/// its own and PowerShell completes paths. Never throws.
/// </summary>
internal sealed class CheckpointCompleter : IArgumentCompleter
{
    /// <inheritdoc />
    public IEnumerable<CompletionResult>? CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            var run = CompletionText.Bound(fakeBoundParameters, "Run");
            if (run is null) return null;
            var (prefix, quote) = CompletionText.Parse(wordToComplete);
            var paths = SessionPaths.Get(fakeBoundParameters);
            var dir = RunLocator.Resolve(run, paths.RunsRoot, paths.Current);
            var items = CheckpointCatalog.List(dir, goodOnly: false, latest: false, verify: false, out _);
            var results = new List<CompletionResult>();
            foreach (var c in items.OrderByDescending(c => c.Step))
            {
                var name = Path.GetFileName(c.Path);
                var shown = Shown(c.Path, paths.Current);
                if (!CompletionText.Matches(name, prefix) && !CompletionText.Matches(shown, prefix) && !CompletionText.Matches(c.Path, prefix)) continue;
                results.Add(new CompletionResult(CompletionText.Quote(shown, quote), name, CompletionResultType.ParameterValue, ToolTip(c)));
            }
            return results.Count > 0 ? results : null;
        }
        catch (Exception)
        {
            return null;
        }
    }

    /// <summary>The path as typed on a command line: ./relative when under <paramref name="current"/>, else full.</summary>
    private static string Shown(string path, string current)
    {
        var relative = Path.GetRelativePath(current, path);
        if (relative == path || Path.IsPathRooted(relative) || relative.StartsWith("..", StringComparison.Ordinal)) return path;
        return "." + Path.DirectorySeparatorChar + relative;
    }

    /// <summary>"step 500, Good, loss 0.412, diagonality 0.61, saved 2026-01-01 10:20" and the path.</summary>
    private static string ToolTip(CheckpointListing c)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = string.Create(inv, $"step {c.Step}");
        if (c.Entry is not { } e) text += ", not in the manifest";
        else
        {
            text += e.Good ? ", Good" : ", not good";
            if (e.Best) text += ", Best";
            text += string.Create(inv, $", loss {e.Loss:0.###}");
            if (e.Diagonality is { } d) text += string.Create(inv, $", diagonality {d:0.##}");
            if (e.Created != default) text += string.Create(inv, $", saved {e.Created:yyyy-MM-dd HH:mm}");
        }
        return $"{text}{Environment.NewLine}{c.Path}";
    }
}
