using System.Diagnostics;
using System.Globalization;

namespace TacotronRecovery.Engine.Benchmarks;

/// <summary>The process's peak resident memory: VmHWM from /proc/self/status on Linux, PeakWorkingSet64 elsewhere.</summary>
public static class PeakMemory
{
    /// <summary>Peak resident bytes so far (0 when the platform does not say).</summary>
    public static long ReadBytes()
    {
        const string status = "/proc/self/status";
        if (OperatingSystem.IsLinux() && File.Exists(status))
        {
            foreach (var line in File.ReadLines(status))
            {
                if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
                var parts = line["VmHWM:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 1 && long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var kb))
                    return kb * 1024;
            }
        }
        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }
}
