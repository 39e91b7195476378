using System.Text.Json;

namespace TacotronRecovery.Core.Runs;

/// <summary>
/// The argv of an external training command (<c>Start-TacotronTraining -Command</c>, e.g. <c>torchrun … train.py …
/// -c {checkpoint}</c>): its JSON form on the supervisor's command line and in <c>command.json</c>, and the
/// <see cref="CheckpointPlaceholder"/> substitution a start, restart or rollback makes.
/// </summary>
public static class ExternalCommand
{
    /// <summary>Stands for the checkpoint the command starts from, in any argument (<c>-c {checkpoint}</c>, <c>--ckpt={checkpoint}</c>).</summary>
    public const string CheckpointPlaceholder = "{checkpoint}";

    /// <summary>The environment variable that names the run directory for the adapter (tacotron_recovery.py).</summary>
    public const string RunDirectoryVariable = "TACOTRON_RECOVERY_RUN";

    /// <summary>
    /// The argv to start: with a checkpoint, every <see cref="CheckpointPlaceholder"/> is replaced by its path; without
    /// one, an argument that is exactly the placeholder is removed together with the option name before it (an
    /// argument starting with <c>-</c>), and an argument that contains it (<c>--ckpt={checkpoint}</c>) is removed.
    /// </summary>
    /// <param name="argv">The command as given (program first).</param>
    /// <param name="checkpoint">The checkpoint to start from, or null for none.</param>
    public static IReadOnlyList<string> Substitute(IReadOnlyList<string> argv, string? checkpoint)
    {
        ArgumentNullException.ThrowIfNull(argv);
        if (checkpoint is not null)
            return argv.Select(a => a.Replace(CheckpointPlaceholder, checkpoint, StringComparison.Ordinal)).ToArray();
        var result = new List<string>(argv.Count);
        foreach (var a in argv)
        {
            if (a == CheckpointPlaceholder)
            {
                if (result.Count > 1 && result[^1].StartsWith('-')) result.RemoveAt(result.Count - 1);
                continue;
            }
            if (!a.Contains(CheckpointPlaceholder, StringComparison.Ordinal)) result.Add(a);
        }
        return result;
    }

    /// <summary>True when the command names where its checkpoint goes (it can be restarted from one).</summary>
    public static bool TakesCheckpoint(IReadOnlyList<string> argv) =>
        argv.Any(a => a.Contains(CheckpointPlaceholder, StringComparison.Ordinal));

    /// <summary>The argv as a JSON array of strings.</summary>
    public static string ToJson(IReadOnlyList<string> argv) => JsonSerializer.Serialize(argv);

    /// <summary>Parses a JSON array of strings (program first).</summary>
    /// <exception cref="ArgumentException">Not a non-empty array of strings, or an empty program.</exception>
    public static IReadOnlyList<string> FromJson(string json)
    {
        string[]? argv;
        try { argv = JsonSerializer.Deserialize<string[]>(json); }
        catch (JsonException e) { throw new ArgumentException($"The command must be a JSON array of strings ({e.Message}).", nameof(json), e); }
        if (argv is null || argv.Length == 0 || string.IsNullOrWhiteSpace(argv[0]) || argv.Any(a => a is null))
            throw new ArgumentException("The command must be a non-empty JSON array of strings, the program first.", nameof(json));
        return argv;
    }

    /// <summary>Writes the run's <c>command.json</c> (atomically).</summary>
    public static void Save(RunDirectory run, IReadOnlyList<string> argv)
    {
        ArgumentNullException.ThrowIfNull(run);
        AtomicFile.WriteAllText(run.CommandFile, ToJson(argv) + "\n");
    }

    /// <summary>The run's <c>command.json</c>, or null when it has none (not an external run).</summary>
    /// <exception cref="RunDataException">CommandCorrupt: the file is not a JSON array of strings.</exception>
    public static IReadOnlyList<string>? TryLoad(RunDirectory run)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (!File.Exists(run.CommandFile)) return null;
        try { return FromJson(File.ReadAllText(run.CommandFile)); }
        catch (ArgumentException e)
        {
            throw new RunDataException("CommandCorrupt", run.CommandFile, $"The command file '{run.CommandFile}' is unusable: {e.Message}", e);
        }
    }
}
