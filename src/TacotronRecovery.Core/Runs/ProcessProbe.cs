using System.Diagnostics;

namespace TacotronRecovery.Core.Runs;

/// <summary>Whether a recorded process id still belongs to a live process.</summary>
public static class ProcessProbe
{
    /// <summary>
    /// True when a process with <paramref name="pid"/> runs on this machine and (when <paramref name="notStartedAfter"/>
    /// is given) started no later than that time plus 5 s slack: a process started after the record was written
    /// is a different process that reuses the pid. A zombie (exited, not reaped) counts as dead.
    /// </summary>
    public static bool IsAlive(int pid, DateTimeOffset? notStartedAfter = null)
    {
        if (pid <= 0) return false;
        try
        {
            using var p = Process.GetProcessById(pid);
            if (p.HasExited) return false;
            if (OperatingSystem.IsLinux() && IsZombie(pid)) return false;
            if (notStartedAfter is { } limit)
            {
                try
                {
                    if (new DateTimeOffset(p.StartTime) > limit + TimeSpan.FromSeconds(5)) return false;
                }
                catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException) { }
            }
            return true;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>Start time of a live process, or null.</summary>
    public static DateTimeOffset? StartTime(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return new DateTimeOffset(p.StartTime);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return null;
        }
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] is 'Z' or 'X';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }
}
