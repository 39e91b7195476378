using System.Runtime.InteropServices;

namespace TacotronRecovery.Host;

/// <summary>
/// Makes the supervisor of a detached run independent of whoever started it: its own session and process group (so
/// Ctrl+C, SIGINT or SIGHUP sent to the starting shell's group and closing the terminal do not reach it, and
/// <c>Stop-TacotronTraining -Force</c> can kill supervisor and engine as one group), stdin from /dev/null, and
/// stdout/stderr into <c>logs/supervisor.log</c> instead of the caller's pipes (a caller that captures output, such as
/// bash <c>$(...)</c>, cron or CI, would otherwise wait for the run to end).
/// </summary>
internal static class Detach
{
    /// <summary>Detaches the current process; <paramref name="logFile"/> receives its stdout and stderr.</summary>
    public static void Apply(string logFile)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
        if (OperatingSystem.IsWindows())
        {
            // Started with CreateNoWindow (no console shared with the caller) and pipes the starter closes: managed
            // output only needs a new home. The engine's output is pumped into files by the supervisor.
            var writer = new StreamWriter(new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
            Console.SetOut(writer);
            Console.SetError(writer);
            return;
        }
        // Usually already done by /usr/bin/setsid, which started us; fails harmlessly (EPERM) when we lead a group.
        _ = setsid();
        using (var devNull = new FileStream("/dev/null", FileMode.Open, FileAccess.Read))
            Dup2(devNull.SafeFileHandle.DangerousGetHandle(), 0);
        using (var log = new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite))
        {
            Dup2(log.SafeFileHandle.DangerousGetHandle(), 1);
            Dup2(log.SafeFileHandle.DangerousGetHandle(), 2);
        }
    }

    private static void Dup2(IntPtr from, int to)
    {
        if (dup2((int)from, to) < 0)
            throw new IOException($"dup2 onto descriptor {to} failed (errno {Marshal.GetLastPInvokeError()}).");
    }

    /// <summary>The parent process id (getppid; Unix only).</summary>
    internal static int ParentProcessId() => getppid();

    [DllImport("libc")]
    private static extern int getppid();

    [DllImport("libc", SetLastError = true)]
    private static extern int setsid();

    [DllImport("libc", SetLastError = true)]
    private static extern int dup2(int oldfd, int newfd);
}
