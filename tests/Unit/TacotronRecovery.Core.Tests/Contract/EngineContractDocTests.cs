using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using TacotronRecovery.Core.Contract;
using TacotronRecovery.Core.Recovery;

namespace TacotronRecovery.Core.Tests.Contract;

/// <summary>docs/engine.md describes the engine contract from its one definition: its tables list exactly what Core/Contract defines.</summary>
public class EngineContractDocTests
{
    private static string RepoRoot([CallerFilePath] string source = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", "..", "..", ".."));

    /// <summary>The rows of the first table under the heading that starts with <paramref name="heading"/>, as cells.</summary>
    private static List<string[]> Table(string heading)
    {
        var lines = File.ReadAllLines(Path.Combine(RepoRoot(), "docs", "engine.md"));
        int i = Array.FindIndex(lines, l => l.StartsWith(heading, StringComparison.Ordinal));
        Assert.True(i >= 0, $"docs/engine.md has no heading '{heading}'");
        var rows = new List<string[]>();
        bool inTable = false;
        for (int k = i + 1; k < lines.Length && !lines[k].StartsWith('#'); k++)
        {
            if (lines[k].StartsWith('|'))
            {
                inTable = true;
                rows.Add(lines[k].Trim('|').Split('|').Select(c => c.Trim()).ToArray());
            }
            else if (inTable) break;
        }
        return rows.Skip(2).ToList(); // header and separator
    }

    private static string Unquote(string cell) => Regex.Match(cell, "^`([^`]+)`$") is { Success: true } m ? m.Groups[1].Value : cell;

    [Fact]
    public void ExitCodeTable_MatchesExitCodes()
    {
        var documented = Table("### Exit codes").Select(r => (int.Parse(r[0], System.Globalization.CultureInfo.InvariantCulture), r[1])).ToList();
        Assert.Equal(ExitCodes.All, documented);
    }

    [Fact]
    public void EventCodeTable_MatchesEventCodes()
    {
        var documented = Table("### Event codes").Select(r => Unquote(r[0])).ToList();
        Assert.Equal(EventCodes.All.Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
        Assert.Equal(documented.Count, documented.Distinct().Count());
    }

    [Fact]
    public void RunFileTable_MatchesRunFiles()
    {
        var documented = Table("### Run directory files").Select(r => Unquote(r[0])).ToList();
        Assert.Equal(RunFiles.All.Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void EventCodes_NameEveryRecoveryAction()
    {
        foreach (var action in Enum.GetNames<RecoveryAction>()) Assert.Contains(action, EventCodes.All);
    }
}
