using System.Runtime.InteropServices;

namespace TacotronRecovery.Engine.Runtime;

/// <summary>
/// Keeps glibc's heap from returning a training step's memory to the kernel only to fault it back in on the next step.
/// <para>
/// libtorch allocates its CPU tensors with <c>malloc</c>. glibc serves blocks above its mmap threshold (128 KiB at start,
/// raised as large blocks are freed) with fresh <c>mmap</c>s and trims the heap top above 128 KiB; a Tacotron step
/// allocates and frees hundreds of megabytes of activations and gradients, so every step paid page faults and page
/// zeroing for memory it had just given back (perf: ~14 % of the step in the kernel's fault path).
/// <see cref="Tune"/> sets the mmap threshold to glibc's maximum (32 MiB on 64-bit) and the trim threshold to 1 GiB with
/// <c>mallopt</c>, once per process, before the model is built. Peak RSS is unchanged (measured: 1041 against 1046 MiB,
/// small preset); memory freed below the peak stays with the process until it exits. docs/benchmarks.md has the
/// before/after figures. Linux with glibc only; set <c>TACOTRON_MALLOC_DEFAULT=1</c> to keep glibc's defaults.
/// </para>
/// </summary>
public static class NativeHeap
{
    /// <summary>Set to 1 to keep glibc's own thresholds.</summary>
    public const string OptOutVariable = "TACOTRON_MALLOC_DEFAULT";

    private const int MTrimThreshold = -1, MMmapThreshold = -3;
    private const int MmapThreshold = 32 << 20, TrimThreshold = 1 << 30;
    private static readonly ProcessSetting Setting = new(Apply);

    /// <summary>What <see cref="Tune"/> did: <c>tuned (…)</c>, or <c>default (…)</c> with the reason.</summary>
    public static string State => Setting.State;

    /// <summary>Sets the thresholds once per process (see the type's remarks); never throws. Returns <see cref="State"/>.</summary>
    public static string Tune() => Setting.Apply();

    private static unsafe string Apply()
    {
        if (Environment.GetEnvironmentVariable(OptOutVariable) == "1") return $"default ({OptOutVariable}=1)";
        if (!OperatingSystem.IsLinux()) return "default (Linux only)";
        if (!NativeLibrary.TryLoad("libc.so.6", out var libc)
            || !NativeLibrary.TryGetExport(libc, "gnu_get_libc_version", out _)
            || !NativeLibrary.TryGetExport(libc, "mallopt", out var mallopt))
            return "default (not glibc)";
        var set = (delegate* unmanaged<int, int, int>)mallopt;
        if (set(MMmapThreshold, MmapThreshold) != 1 || set(MTrimThreshold, TrimThreshold) != 1) return "default (mallopt refused)";
        return "tuned (mmap threshold 32 MiB, trim threshold 1 GiB)";
    }
}
