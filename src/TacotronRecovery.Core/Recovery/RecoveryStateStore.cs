using System.Text.Json;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Recovery;

/// <summary>
/// Reads and atomically writes a run's <c>recovery-state.json</c> (<see cref="RunDirectory.RecoveryStateFile"/>): the
/// recovery controller's state outside the checkpoints, so that restart counts, the safe-mode level and the budgets
/// survive engine deaths. The engine writes it at every event while it trains; the supervisor reads it when the engine
/// dies, asks the controller, and writes the result before it starts the next engine.
/// </summary>
public static class RecoveryStateStore
{
    /// <summary>The state in <paramref name="file"/>, or null when the file does not exist.</summary>
    /// <exception cref="RunDataException">RecoveryStateCorrupt when the file cannot be read as a state.</exception>
    public static RecoveryState? TryRead(string file)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<RecoveryState>(bytes, RunJson.Options) ?? throw new JsonException("the file holds null");
        }
        catch (JsonException e)
        {
            throw new RunDataException("RecoveryStateCorrupt", file,
                $"The recovery state file '{file}' is corrupt ({e.Message}). Delete it: the next engine starts from the checkpoint's state.", e);
        }
    }

    /// <summary>Writes <paramref name="state"/> to <paramref name="file"/> atomically (temp file, fsync, rename).</summary>
    public static void Write(string file, RecoveryState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        AtomicFile.Write(file, s => JsonSerializer.Serialize(s, state, RunJson.Options));
    }
}
