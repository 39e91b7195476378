using System.Runtime.Intrinsics.X86;
using TacotronRecovery.Core.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Runtime;

/// <summary>
/// What <c>training.mixed_precision</c> means on one device: <see cref="Mode"/> is Off, Bf16 or Fp16 (auto resolved),
/// <see cref="ProductType"/> the dtype of the products while it is on, <see cref="Why"/> one sentence for the
/// MixedPrecision event. <c>auto</c>: fp16 with loss scaling on CUDA; bf16 on a CPU with native bf16 products
/// (AVX512-BF16 or AMX-BF16); else off, saying why. An explicit bf16 or fp16 is honoured everywhere and says when the
/// products will be emulated (slower than fp32).
/// </summary>
public sealed record PrecisionPlan(MixedPrecisionMode Requested, MixedPrecisionMode Mode, string Why, bool Emulated = false)
{
    /// <summary>bf16 or fp16 while mixed precision is on; null when it is off.</summary>
    public ScalarType? ProductType => Mode switch
    {
        MixedPrecisionMode.Bf16 => ScalarType.BFloat16,
        MixedPrecisionMode.Fp16 => ScalarType.Float16,
        _ => null,
    };

    /// <summary>True for fp16 (dynamic loss scaling: <see cref="Training.GradScaler"/>).</summary>
    public bool ScalesLoss => Mode == MixedPrecisionMode.Fp16;

    /// <summary>Resolves <paramref name="requested"/> for <paramref name="device"/>.</summary>
    public static PrecisionPlan Resolve(MixedPrecisionMode requested, Device device) =>
        Resolve(requested, device.type == DeviceType.CUDA, CpuBf16());

    /// <summary>The same from plain facts (tests).</summary>
    public static PrecisionPlan Resolve(MixedPrecisionMode requested, bool cuda, string? cpuBf16)
    {
        const string NoBf16 = "the CPU has neither AVX512-BF16 nor AMX-BF16";
        return requested switch
        {
            MixedPrecisionMode.Off => new(requested, MixedPrecisionMode.Off, "mixed precision is off: fp32 throughout."),
            MixedPrecisionMode.Auto when cuda => new(requested, MixedPrecisionMode.Fp16, "auto on CUDA: fp16 products with dynamic loss scaling."),
            MixedPrecisionMode.Auto when cpuBf16 is not null => new(requested, MixedPrecisionMode.Bf16, $"auto on a CPU with {cpuBf16}: bf16 products."),
            MixedPrecisionMode.Auto => new(requested, MixedPrecisionMode.Off, $"auto stays fp32: {NoBf16}, so bf16 products would be emulated and slower than fp32."),
            MixedPrecisionMode.Bf16 when cuda || cpuBf16 is not null => new(requested, MixedPrecisionMode.Bf16, cuda ? "bf16 products on CUDA." : $"bf16 products on a CPU with {cpuBf16}."),
            MixedPrecisionMode.Bf16 => new(requested, MixedPrecisionMode.Bf16, $"bf16 products as configured, but {NoBf16}: they are emulated and slower than fp32 (auto would stay fp32).", Emulated: true),
            MixedPrecisionMode.Fp16 when cuda => new(requested, MixedPrecisionMode.Fp16, "fp16 products with dynamic loss scaling on CUDA."),
            _ => new(requested, MixedPrecisionMode.Fp16, "fp16 products with dynamic loss scaling as configured, on the CPU, where fp16 products are emulated and slower than fp32 (fp16 is meant for CUDA; bf16 or auto suit a CPU).", Emulated: true),
        };
    }

    /// <summary>"AVX512-BF16" or "AMX-BF16" when this x86 CPU (and OS) runs bf16 products natively; null otherwise.</summary>
    public static string? CpuBf16()
    {
        if (!X86Base.IsSupported || !Avx512F.IsSupported) return null;
        var (maxLeaf, _, _, _) = X86Base.CpuId(0, 0);
        if (maxLeaf < 7) return null;
        var (_, _, _, edx7) = X86Base.CpuId(7, 0);
        var (eax71, _, _, _) = X86Base.CpuId(7, 1);
        if ((eax71 & (1 << 5)) != 0) return "AVX512-BF16";
        if ((edx7 & (1 << 22)) != 0) return "AMX-BF16";
        return null;
    }
}
