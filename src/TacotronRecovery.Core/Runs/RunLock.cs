using System.Text.Json;

namespace TacotronRecovery.Core.Runs;

/// <summary>Contents of <c>engine.lock</c>: who holds a run.</summary>
public sealed record RunLockInfo
{
    /// <summary>Process id of the holder.</summary>
    public int Pid { get; init; }
    /// <summary>Start time of the holder process (guards against pid reuse).</summary>
    public DateTimeOffset ProcessStarted { get; init; }
    /// <summary>When the lock was taken.</summary>
    public DateTimeOffset Acquired { get; init; }
    /// <summary>Host name of the holder.</summary>
    public string Host { get; init; } = "";
}

/// <summary>
/// <c>engine.lock</c>: at most one engine writes a run. The file is created exclusively (O_EXCL) and holds the pid,
/// the process start time and the host. A lock whose process is gone (or whose pid now belongs to a process started
/// later) is stale and taken over, with <see cref="TakeOverNote"/> saying so. A lock held by a live process, or by
/// another host (whose processes cannot be checked), is refused with <see cref="RunDataException"/> RunLocked.
/// Disposing releases the lock (deletes the file if it is still ours).
/// </summary>
public sealed class RunLock : IDisposable
{
    private bool _released;

    private RunLock(string file, RunLockInfo info, string? note)
    {
        File = file;
        Info = info;
        TakeOverNote = note;
    }

    /// <summary>The lock file.</summary>
    public string File { get; }

    /// <summary>What was written to the lock file.</summary>
    public RunLockInfo Info { get; }

    /// <summary>Set when a stale lock was taken over: whose and why (for the training log and events).</summary>
    public string? TakeOverNote { get; }

    /// <summary>Takes the lock <paramref name="file"/> for the current process.</summary>
    /// <param name="file">Usually <see cref="RunDirectory.LockFile"/>.</param>
    /// <param name="time">Clock for the acquisition time; default system.</param>
    public static RunLock Acquire(string file, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        var me = new RunLockInfo
        {
            Pid = Environment.ProcessId,
            ProcessStarted = ProcessProbe.StartTime(Environment.ProcessId) ?? time.GetUtcNow(),
            Acquired = time.GetUtcNow(),
            Host = Environment.MachineName,
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        string? note = null;
        // The run's supervisor.lock is held by the supervisor, engine.lock (and any other) by an engine.
        string holderRole = string.Equals(Path.GetFileName(file), "supervisor.lock", StringComparison.Ordinal) ? "supervisor" : "engine";
        for (int attempt = 0; attempt < 30; attempt++)
        {
            if (TryCreate(file, me)) return new RunLock(file, me, note);
            var holder = ReadHolder(file);
            if (holder is null)
            {
                if (!System.IO.File.Exists(file)) continue;
                // Possibly being written by another taker right now: only an unreadable lock older than 2 s is stale.
                if (DateTime.UtcNow - System.IO.File.GetLastWriteTimeUtc(file) < TimeSpan.FromSeconds(2))
                {
                    Thread.Sleep(100);
                    continue;
                }
                note = $"Took over an unreadable lock file '{file}'.";
                TryDelete(file);
                continue;
            }
            if (!string.Equals(holder.Host, me.Host, StringComparison.OrdinalIgnoreCase))
                throw new RunDataException("RunLocked", file,
                    $"The run is locked by {holderRole} pid {holder.Pid} on host '{holder.Host}' (lock '{file}', taken {holder.Acquired:u}). " +
                    "Its liveness cannot be checked from here; stop that engine, or delete the lock file if it is gone.");
            if (holder.Pid == me.Pid)
                throw new RunDataException("RunLocked", file, $"The run is already locked by this process (pid {me.Pid}, lock '{file}').");
            if (ProcessProbe.IsAlive(holder.Pid, holder.ProcessStarted))
                throw new RunDataException("RunLocked", file,
                    $"The run is locked by a running {holderRole}, pid {holder.Pid} (since {holder.Acquired:u}; lock '{file}'). " +
                    "Stop it with Stop-TacotronTraining first.");
            note = $"Took over a stale lock of {holderRole} pid {holder.Pid} (acquired {holder.Acquired:u}), which is no longer running.";
            TryDelete(file);
        }
        throw new RunDataException("RunLocked", file, $"Could not take the lock '{file}': another process keeps creating it.");
    }

    /// <summary>The current holder recorded in <paramref name="file"/>, or null when there is none or it is unreadable.</summary>
    public static RunLockInfo? ReadHolder(string file)
    {
        try
        {
            return JsonSerializer.Deserialize<RunLockInfo>(System.IO.File.ReadAllBytes(file), RunJson.Options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Releases the lock.</summary>
    public void Dispose()
    {
        if (_released) return;
        _released = true;
        var holder = ReadHolder(File);
        if (holder is not null && holder.Pid == Info.Pid && holder.Acquired == Info.Acquired) TryDelete(File);
    }

    private static bool TryCreate(string file, RunLockInfo info)
    {
        try
        {
            using var fs = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
            JsonSerializer.Serialize(fs, info, RunJson.Options);
            fs.Flush(flushToDisk: true);
            return true;
        }
        catch (IOException) when (System.IO.File.Exists(file))
        {
            return false;
        }
    }

    private static void TryDelete(string file)
    {
        try { System.IO.File.Delete(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
