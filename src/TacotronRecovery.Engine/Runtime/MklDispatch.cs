using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Runtime;

/// <summary>
/// Lets the MKL inside libtorch choose its code path by CPU features instead of by vendor.
/// <para>
/// libtorch's CPU matrix products are Intel oneMKL's SGEMM. MKL asks <c>mkl_serv_intel_cpu_true</c> whether the CPU is an
/// Intel one and, when it is not, runs its generic AVX2 kernels even on CPUs that have AVX-512 (AMD Zen 4 and 5). On this
/// project's machine (AMD EPYC, family 26) that halves the speed of every matrix product: one thread,
/// [2400 × 768]·[768 × 2048] 115 GFLOP/s instead of 255, [16 × 768]·[768 × 2048] 82 instead of 231
/// (<c>TacotronRecovery.Host bench --products</c>, with and without the opt-out below). The arithmetic is the same fp32
/// SGEMM either way; only the kernel differs.
/// </para>
/// <para>
/// <see cref="Enable"/> makes that function return 1 in this process: it overwrites its first six bytes with
/// <c>mov eax, 1; ret</c> (the documented LD_PRELOAD workaround, done in memory so that nothing needs a C compiler and no
/// file on disk changes). MKL then dispatches by CPUID features alone. It runs once per process, before the first matrix
/// product (MKL caches its dispatch); only on Linux x64, only when the function's first bytes are those of the known MKL
/// build (otherwise MKL is left untouched and the state says so), and only when it returns 0. The effect is checked with
/// MKL's own report (<c>mkl_serv_cpu_detect</c>, the branch it dispatches to), never by calling the patched function.
/// Set <c>TACOTRON_MKL_VENDOR_DISPATCH=1</c> to keep MKL's own choice.
/// </para>
/// </summary>
public static class MklDispatch
{
    /// <summary>The environment variable that keeps MKL's vendor-based dispatch when set to 1.</summary>
    public const string OptOutVariable = "TACOTRON_MKL_VENDOR_DISPATCH";

    private const string Symbol = "mkl_serv_intel_cpu_true";
    private static readonly ProcessSetting Setting = new(Apply);

    /// <summary>What <see cref="Enable"/> did: <c>features</c>, <c>intel</c> (nothing to do), <c>vendor (…)</c> with the reason it was left alone.</summary>
    public static string State => Setting.State;

    /// <summary>
    /// True when MKL runs its AVX2 branch (an AVX2-only CPU, or MKL_ENABLE_INSTRUCTIONS=AVX2). Its per-step products with
    /// a wide output, [16 × 768]·[768 × 2048], run 1.35× faster with the weight as a transposed view than as a contiguous
    /// copy (72–76 against 55 GFLOP/s, bench --products), the opposite of the AVX-512 branch (122 against 179); products
    /// with a narrower output are faster contiguous on both. The recurrences choose their layout by this.
    /// </summary>
    public static bool Avx2Branch
    {
        get
        {
            Enable();
            return State.Contains("AVX2 branch", StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// The weight operand for the per-step product x·Wᵀ whose output (the rows of <paramref name="weight"/>) is 4H wide:
    /// a transposed view on MKL's AVX2 branch, a contiguous copy elsewhere (<see cref="Avx2Branch"/>).
    /// </summary>
    internal static Tensor WideProductOperand(Tensor weight) => (WideProductViews ?? Avx2Branch) ? weight.t() : weight.t().contiguous();

    /// <summary>Tests: forces the layout <see cref="WideProductOperand"/> chooses (null: by the MKL branch).</summary>
    internal static bool? WideProductViews { get; set; }

    /// <summary>Makes MKL dispatch by CPU features (see the type's remarks); idempotent, never throws. Returns <see cref="State"/>.</summary>
    public static string Enable() => Setting.Apply();

    private static unsafe string Apply()
    {
        if (Environment.GetEnvironmentVariable(OptOutVariable) == "1") return $"vendor ({OptOutVariable}=1)";
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return "vendor (Linux x64 only)";
        try
        {
            _ = get_num_threads(); // loads libtorch without running a matrix product
            if (!NativeLibrary.TryLoad("libtorch_cpu.so", out var library)) return "vendor (libtorch_cpu.so not loaded)";
            if (!NativeLibrary.TryGetExport(library, Symbol, out var function)) return $"vendor (no {Symbol} in this libtorch)";
            if (!NativeLibrary.TryGetExport(library, DetectSymbol, out var detectExport)) return $"vendor (no {DetectSymbol} in this libtorch; left untouched)";
            var detect = (delegate* unmanaged<int>)detectExport;

            // Patch only the function of a known MKL build: its first bytes must be the ones checked here.
            var head = new ReadOnlySpan<byte>((void*)function, ExpectedHead.Length);
            if (!Matches(head))
                return $"vendor (unknown MKL build: {Symbol} starts {Convert.ToHexString(head)}; left untouched)";
            if (((delegate* unmanaged<int>)function)() != 0) return "intel"; // an Intel CPU: MKL already chooses by features

            var page = (long)Environment.SystemPageSize;
            var start = (nint)((long)function & ~(page - 1));
            var length = (nuint)(((long)function + Patch.Length - start + page - 1) / page * page);
            if (mprotect(start, length, ProtRead | ProtWrite | ProtExec) != 0)
                return $"vendor (mprotect failed, errno {Marshal.GetLastPInvokeError()})";
            Marshal.Copy(Patch, 0, function, Patch.Length);
            _ = mprotect(start, length, ProtRead | ProtExec);

            // MKL's own report of the code branch it now dispatches to (0: the generic branch non-Intel CPUs get).
            var branch = detect();
            return branch > 0 ? $"features ({BranchName(branch)})" : "vendor (patched, but MKL still reports its generic branch)";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException)
        {
            return $"vendor ({e.GetType().Name}: {e.Message})";
        }
    }

    /// <summary>
    /// The first bytes of <c>mkl_serv_intel_cpu_true</c> in the oneMKL that libtorch 2.10 CPU carries: <c>mov eax,
    /// [rip+cached]; test eax, eax; js compute; ret; push rbx</c>. The four bytes of the RIP-relative offset (null here)
    /// differ between builds of the same code and are not compared.
    /// </summary>
    private static readonly byte?[] ExpectedHead = { 0x8B, 0x05, null, null, null, null, 0x85, 0xC0, 0x78, 0x01, 0xC3, 0x53 };

    private static bool Matches(ReadOnlySpan<byte> head)
    {
        for (int i = 0; i < ExpectedHead.Length; i++)
            if (ExpectedHead[i] is { } b && head[i] != b) return false;
        return true;
    }

    private const string DetectSymbol = "mkl_serv_cpu_detect";

    /// <summary>Names of the branches <c>mkl_serv_cpu_detect</c> reports (measured: 7 with AVX-512, 5 with MKL_ENABLE_INSTRUCTIONS=AVX2).</summary>
    private static string BranchName(int branch) => branch switch
    {
        5 => "AVX2 branch",
        7 => "AVX-512 branch",
        _ => $"branch {branch}",
    };

    private static readonly byte[] Patch = { 0xB8, 0x01, 0x00, 0x00, 0x00, 0xC3 }; // mov eax, 1; ret
    private const int ProtRead = 1, ProtWrite = 2, ProtExec = 4;

    [DllImport("libc", SetLastError = true)]
    private static extern int mprotect(nint address, nuint length, int protection);
}
