using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Language;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Commands.Completers;

/// <summary>
/// Completes -Run with the run folders under the runs root, found as the cmdlets find it: -RunsRoot when typed on the
/// command line, else $env:TACOTRON_RUNS, else ./runs. Names match by prefix, ignoring case; the tooltip shows the
/// status, last step, last loss and checkpoint count. A word that looks like a path ('./', '/', '~', a drive), no
/// matching run, or an unreadable runs root gives no completions of its own, so PowerShell completes paths instead.
/// Never throws.
/// </summary>
internal sealed class RunCompleter : IArgumentCompleter
{
    /// <inheritdoc />
    public IEnumerable<CompletionResult>? CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            var (prefix, quote) = CompletionText.Parse(wordToComplete);
            if (CompletionText.LooksLikePath(prefix)) return null;
            var paths = SessionPaths.Get(fakeBoundParameters);
            var root = RunLocator.RunsRoot(paths.RunsRoot, paths.Current);
            var results = RunLocator.ListRuns(root)
                .Where(r => CompletionText.Matches(r.Name, prefix))
                .Select(r => new CompletionResult(CompletionText.Quote(r.Name, quote), r.Name, CompletionResultType.ParameterValue, ToolTip(r)))
                .ToList();
            return results.Count > 0 ? results : null;
        }
        catch (Exception)
        {
            return null;
        }
    }

    /// <summary>"Running, step 1200, loss 0.412, 3 checkpoint(s)" and the run's path.</summary>
    internal static string ToolTip(RunDirectory run)
    {
        try
        {
            var s = RunSummary.Read(run);
            var text = string.Create(CultureInfo.InvariantCulture, $"{s.Status}, step {s.Step}");
            if (s.LastLoss is { } loss) text += string.Create(CultureInfo.InvariantCulture, $", loss {loss:0.###}");
            if (s.Checkpoints > 0) text += string.Create(CultureInfo.InvariantCulture, $", {s.Checkpoints} checkpoint(s)");
            return $"{text}{Environment.NewLine}{run.Path}";
        }
        catch (Exception e)
        {
            return $"{run.Path}{Environment.NewLine}(unreadable: {e.Message})";
        }
    }
}
