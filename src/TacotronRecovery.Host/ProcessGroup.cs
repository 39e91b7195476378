using System.Diagnostics;
using System.Runtime.InteropServices;

namespace TacotronRecovery.Host;

/// <summary>
/// An external command started as the leader of its own session and process group (through util-linux
/// <c>/usr/bin/setsid</c>, which calls setsid() and execs, so the pid .NET reports is the group's id: measured with
/// <c>setsid bash -c 'sleep 30 &amp; sleep 30 &amp; wait'</c>, pid = pgid = sid, both sleeps in the group), so that
/// torchrun and every worker it forks can be signalled as one: SIGTERM, then SIGKILL after a grace. Without setsid
/// (Windows, or no /usr/bin/setsid) the command runs in our group and is killed by process tree.
/// </summary>
internal static class ProcessGroup
{
    /// <summary>util-linux setsid.</summary>
    public const string SetsidPath = "/usr/bin/setsid";

    /// <summary>Start info that runs <paramref name="argv"/> as a group leader where possible.</summary>
    public static ProcessStartInfo StartInfo(IReadOnlyList<string> argv, out bool ownGroup)
    {
        ownGroup = !OperatingSystem.IsWindows() && File.Exists(SetsidPath);
        var psi = new ProcessStartInfo(ownGroup ? SetsidPath : argv[0]) { UseShellExecute = false };
        foreach (var a in ownGroup ? argv : argv.Skip(1)) psi.ArgumentList.Add(a);
        return psi;
    }

    /// <summary>Sends <paramref name="signal"/> (SIGTERM 15, SIGKILL 9) to every process of group <paramref name="pgid"/>.</summary>
    public static void Signal(int pgid, int signal)
    {
        if (pgid > 1 && !OperatingSystem.IsWindows()) _ = kill(-pgid, signal);
    }

    /// <summary>The live (not zombie) processes of group <paramref name="pgid"/>, from /proc (Linux; empty elsewhere).</summary>
    public static IReadOnlyList<int> Members(int pgid)
    {
        var list = new List<int>();
        if (!OperatingSystem.IsLinux() || pgid <= 1) return list;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // fields: state, ppid, pgrp, ...
                if (fields.Length > 2 && fields[0] is not ("Z" or "X") && int.TryParse(fields[2], out int group) && group == pgid) list.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return list;
    }

    /// <summary>SIGTERM.</summary>
    public const int SigTerm = 15;

    /// <summary>SIGKILL.</summary>
    public const int SigKill = 9;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
