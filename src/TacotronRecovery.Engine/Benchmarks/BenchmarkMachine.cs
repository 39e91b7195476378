using System.Globalization;
using System.Runtime.InteropServices;

namespace TacotronRecovery.Engine.Benchmarks;

/// <summary>
/// Where a benchmark ran: CPU model, logical cores, OS, libtorch version, the 1-minute load average and how MKL picks its
/// kernels (<see cref="Runtime.MklDispatch.State"/>), whether oneDNN convolutions are on (<see cref="Runtime.OneDnn.State"/>), and the native heap's thresholds
/// (<see cref="Runtime.NativeHeap.State"/>).
/// </summary>
public sealed record BenchmarkMachine(string Cpu, int LogicalCores, string Os, string LibTorch, double? LoadAverage, string MklDispatch, string OneDnn, string Heap)
{
    /// <summary>Facts about this machine now (CPU model from /proc/cpuinfo on Linux; load average from /proc/loadavg).</summary>
    public static BenchmarkMachine Describe() =>
        new(CpuModel(), Environment.ProcessorCount, RuntimeInformation.OSDescription, TorchSharp.torch.__version__, LoadAverageNow(),
            Runtime.MklDispatch.State, Runtime.OneDnn.State, Runtime.NativeHeap.State);

    /// <summary>The 1-minute load average, or null where /proc/loadavg does not exist.</summary>
    public static double? LoadAverageNow()
    {
        const string path = "/proc/loadavg";
        if (!File.Exists(path)) return null;
        var first = File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        return double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    private static string CpuModel()
    {
        const string path = "/proc/cpuinfo";
        if (File.Exists(path))
        {
            var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null && line.IndexOf(':') is var colon and >= 0) return line[(colon + 1)..].Trim();
        }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}
