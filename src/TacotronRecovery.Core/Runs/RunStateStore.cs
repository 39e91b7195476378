using System.Text.Json;

namespace TacotronRecovery.Core.Runs;

/// <summary>Reads and atomically writes <c>run.json</c>.</summary>
public static class RunStateStore
{
    /// <summary>
    /// Reads <paramref name="file"/>. A missing file throws <see cref="RunDataException"/> RunStateMissing; an
    /// unreadable one RunStateCorrupt; both name the file.
    /// </summary>
    public static RunState Read(string file)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new RunDataException("RunStateMissing", file, $"The run state file '{file}' does not exist.", e);
        }
        try
        {
            return JsonSerializer.Deserialize<RunState>(bytes, RunJson.Options)
                ?? throw new JsonException("the file holds null");
        }
        catch (JsonException e)
        {
            throw new RunDataException("RunStateCorrupt", file,
                $"The run state file '{file}' is corrupt ({e.Message}). Fix or delete it; the engine rewrites it on the next start.", e);
        }
    }

    /// <summary>Reads <paramref name="file"/>, or null when it does not exist (corrupt still throws).</summary>
    public static RunState? TryRead(string file) => File.Exists(file) ? Read(file) : null;

    /// <summary>
    /// Records a status set from outside the engine (the supervisor after an engine death, Stop-TacotronTraining -Force):
    /// keeps run.json's other fields, sets status, message, exit code and the furthest step reached
    /// (<see cref="RunSummary.LastStep"/>). A missing or corrupt run.json is replaced.
    /// </summary>
    public static RunState Record(RunDirectory run, RunStatus status, string message, int? exitCode)
    {
        ArgumentNullException.ThrowIfNull(run);
        RunState? state = null;
        try { state = TryRead(run.StateFile); } catch (RunDataException) { }
        var updated = (state ?? new RunState { Name = run.Name, Host = Environment.MachineName, Started = DateTimeOffset.UtcNow }) with
        {
            Status = status, Updated = DateTimeOffset.UtcNow, Message = message, ExitCode = exitCode, Step = RunSummary.LastStep(run),
        };
        Write(run.StateFile, updated);
        return updated;
    }

    /// <summary>Writes <paramref name="state"/> to <paramref name="file"/> atomically (temp file, fsync, rename), indented for humans.</summary>
    public static void Write(string file, RunState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var options = new JsonSerializerOptions(RunJson.Options) { WriteIndented = true };
        AtomicFile.Write(file, s => JsonSerializer.Serialize(s, state, options));
    }
}
