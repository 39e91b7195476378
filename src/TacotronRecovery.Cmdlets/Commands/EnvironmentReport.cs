namespace TacotronRecovery.Commands;

/// <summary>Output of Test-TacotronEnvironment: what this machine offers for training.</summary>
public sealed record EnvironmentReport
{
    /// <summary>Operating system description.</summary>
    public string OS { get; init; } = "";
    /// <summary>.NET runtime version of the PowerShell session.</summary>
    public string DotNet { get; init; } = "";
    /// <summary>PowerShell version.</summary>
    public string PowerShell { get; init; } = "";
    /// <summary>TorchSharp version in the engine.</summary>
    public string? TorchSharp { get; init; }
    /// <summary>libtorch version in the engine.</summary>
    public string? LibTorch { get; init; }
    /// <summary>True when the engine loaded libtorch and ran a tensor operation.</summary>
    public bool LibTorchLoaded { get; init; }
    /// <summary>Logical processors on this machine.</summary>
    public int CpuThreads { get; init; }
    /// <summary>Intra-op threads libtorch uses by default.</summary>
    public int TorchThreads { get; init; }
    /// <summary>How libtorch's MKL picks its matrix-product kernels: features (by CPUID, the fast path on AMD), intel, or vendor (why).</summary>
    public string? MklDispatch { get; init; }
    /// <summary>libtorch's oneDNN convolutions: "off" (the engine's default) or "on (why)".</summary>
    public string? OneDnn { get; init; }
    /// <summary>True when CUDA can be used.</summary>
    public bool CudaAvailable { get; init; }
    /// <summary>CUDA device names.</summary>
    public string[] CudaDevices { get; init; } = Array.Empty<string>();
    /// <summary>Folder where runs are written.</summary>
    public string RunsPath { get; init; } = "";
    /// <summary>Free space where runs are written, in GB (NaN when it could not be read).</summary>
    public double FreeDiskGB { get; init; }
    /// <summary>The PyTorch adapter shipped with the module (python/tacotron_recovery.py; docs/scale-out.md), or null when missing.</summary>
    public string? PyTorchAdapter { get; init; }
    /// <summary>One line: ready or what is missing.</summary>
    public string Verdict { get; init; } = "";
}
