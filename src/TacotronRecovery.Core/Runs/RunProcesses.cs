using System.Diagnostics;
using System.Runtime.InteropServices;

namespace TacotronRecovery.Core.Runs;

/// <summary>
/// The processes of one run on this machine: its supervisor (supervisor.lock) and its engine (engine.lock, else the
/// pid in run.json), each checked against its recorded start time so that a reused pid is never mistaken for them.
/// </summary>
/// <param name="Supervisor">Pid of the live supervisor, or null.</param>
/// <param name="Engine">Pid of the live engine, or null.</param>
public sealed record RunProcesses(int? Supervisor, int? Engine)
{
    /// <summary>True when the supervisor or the engine is alive.</summary>
    public bool AnyAlive => Supervisor is not null || Engine is not null;

    /// <summary>The live processes of <paramref name="run"/>.</summary>
    public static RunProcesses Find(RunDirectory run)
    {
        int? engine = LiveHolder(run.LockFile);
        if (engine is null)
        {
            RunState? state = null;
            try { state = RunStateStore.TryRead(run.StateFile); } catch (RunDataException) { }
            if (state is { IsActive: true, Pid: > 0 } && SameHost(state.Host) && ProcessProbe.IsAlive(state.Pid, state.Updated)) engine = state.Pid;
        }
        return new RunProcesses(LiveHolder(run.SupervisorLockFile), engine);
    }

    /// <summary>
    /// Kills the supervisor first (so it cannot restart anything), then the engine. On Unix a detached run is its own
    /// process group (the supervisor leads it), and so is an external command (it leads its own): each whole group gets
    /// SIGKILL, which reaches a frozen (SIGSTOP) engine and torchrun's workers too.
    /// Every process is also killed by pid with its descendants. Waits up to <paramref name="wait"/> for them to be gone.
    /// </summary>
    /// <returns>True when no process of the run is alive afterwards.</returns>
    public bool Kill(RunDirectory run, TimeSpan wait)
    {
        if (!OperatingSystem.IsWindows())
        {
            // A group led by the supervisor (a detached run), or by the engine: an external command runs as the leader of
            // its own group, so that torchrun's workers go with it.
            foreach (var pid in new[] { Supervisor, Engine })
                if (pid is int leader && getpgid(leader) == leader) _ = kill(-leader, SigKill);
        }
        foreach (var pid in new[] { Supervisor, Engine })
        {
            if (pid is not int p) continue;
            try
            {
                using var process = Process.GetProcessById(p);
                process.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { }
        }
        var deadline = DateTime.UtcNow + wait;
        while (DateTime.UtcNow < deadline)
        {
            if (!IsAlive(Supervisor) && !IsAlive(Engine)) return true;
            Thread.Sleep(100);
        }
        return !IsAlive(Supervisor) && !IsAlive(Engine);
    }

    private static bool IsAlive(int? pid) => pid is int p && ProcessProbe.IsAlive(p);

    private static int? LiveHolder(string lockFile)
    {
        var holder = RunLock.ReadHolder(lockFile);
        return holder is not null && SameHost(holder.Host) && ProcessProbe.IsAlive(holder.Pid, holder.ProcessStarted) ? holder.Pid : null;
    }

    private static bool SameHost(string host) => string.IsNullOrEmpty(host) || string.Equals(host, Environment.MachineName, StringComparison.OrdinalIgnoreCase);

    private const int SigKill = 9;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    [DllImport("libc", SetLastError = true)]
    private static extern int getpgid(int pid);
}
