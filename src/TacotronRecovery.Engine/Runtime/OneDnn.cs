using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Runtime;

/// <summary>
/// Turns libtorch's oneDNN (mkldnn) convolutions off in this process, so that convolutions run on ATen's own path
/// (im2col and MKL's SGEMM).
/// <para>
/// Measured on this project's machine (AMD EPYC family 26, AVX-512; libtorch 2.10 CPU, 2026-12-06): with oneDNN the
/// gradients that flow back through a Conv1d were garbage in a varying share of backward passes — the same eval-mode
/// batch gave a different embedding gradient on every pass and NaN on some (the input gradient of the postnet's first
/// convolution, oneDNN's <c>jit:avx512_core</c> backward_data with channel-blocked layouts). Training skipped half its
/// steps as non-finite and the PyTorch gradient-parity test failed. With oneDNN off every pass gives the same, correct
/// gradient. TorchSharp has no switch for it, so <see cref="Disable"/> calls libtorch's
/// <c>at::globalContext().setUserEnabledMkldnn(false)</c> — the same flag as PyTorch's
/// <c>torch.backends.mkldnn.enabled = False</c>. Set <c>TACOTRON_ONEDNN=1</c> to keep oneDNN.
/// </para>
/// </summary>
public static class OneDnn
{
    /// <summary>Set to 1 to leave oneDNN on.</summary>
    public const string KeepVariable = "TACOTRON_ONEDNN";

    private static readonly ProcessSetting Setting = new(Apply);
    private static nint _context, _set, _get;

    /// <summary>What <see cref="Disable"/> did ("off", "on (…)"); "not checked" before.</summary>
    public static string State => Setting.State;

    /// <summary>Turns oneDNN off once per process (before the first convolution) and returns <see cref="State"/>.</summary>
    public static string Disable() => Setting.Apply();

    /// <summary>
    /// oneDNN on until disposed, then back as it was, for bf16/fp16 matrix products on the CPU: libtorch runs them with
    /// oneDNN only (without it, on ATen's reference loop: measured 80× slower than fp32). Only matrix products run inside
    /// (<see cref="Model.MixedPrecision"/>), never a convolution. Does nothing when the switch is unavailable.
    /// </summary>
    internal static unsafe Switch ForProducts()
    {
        if (_set == 0) return default;
        bool was = ((delegate* unmanaged<nint, byte>)_get)(_context) != 0;
        if (!was) ((delegate* unmanaged<nint, byte, void>)_set)(_context, 1);
        return new Switch(!was);
    }

    /// <summary>Restores oneDNN's previous state (see <see cref="ForProducts"/>).</summary>
    internal readonly struct Switch : IDisposable
    {
        private readonly bool _restoreOff;

        internal Switch(bool restoreOff) => _restoreOff = restoreOff;

        public unsafe void Dispose()
        {
            if (_restoreOff) ((delegate* unmanaged<nint, byte, void>)_set)(_context, 0);
        }
    }

    private static unsafe string Apply()
    {
        if (Environment.GetEnvironmentVariable(KeepVariable) == "1") return $"on ({KeepVariable}=1)";
        try
        {
            _ = get_num_threads(); // loads libtorch
            var name = OperatingSystem.IsWindows() ? "torch_cpu.dll" : OperatingSystem.IsMacOS() ? "libtorch_cpu.dylib" : "libtorch_cpu.so";
            if (!NativeLibrary.TryLoad(name, out var library)) return $"on ({name} not loaded)";
            if (!NativeLibrary.TryGetExport(library, "_ZN2at13globalContextEv", out var context)
                || !NativeLibrary.TryGetExport(library, "_ZN2at7Context20setUserEnabledMkldnnEb", out var set)
                || !NativeLibrary.TryGetExport(library, "_ZNK2at7Context17userEnabledMkldnnEv", out var get))
                return "on (this libtorch does not export the switch)";
            var ctx = ((delegate* unmanaged<nint>)context)();
            (_context, _set, _get) = (ctx, set, get);
            ((delegate* unmanaged<nint, byte, void>)set)(ctx, 0);
            return ((delegate* unmanaged<nint, byte>)get)(ctx) == 0 ? "off" : "on (the switch did not take)";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return $"on ({e.GetType().Name}: {e.Message})";
        }
    }
}
