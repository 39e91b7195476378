namespace TacotronRecovery.Core.Runs;

/// <summary>
/// What the engine process reports about its torch runtime (<c>TacotronRecovery.Host env</c>).
/// Plain data so that the cmdlets can show it without loading libtorch themselves.
/// </summary>
public sealed record EngineInfo
{
    /// <summary>True when libtorch loaded and a tensor operation ran.</summary>
    public bool LibTorchLoaded { get; init; }

    /// <summary>TorchSharp assembly version.</summary>
    public string? TorchSharpVersion { get; init; }

    /// <summary>libtorch version reported by the native library.</summary>
    public string? LibTorchVersion { get; init; }

    /// <summary>True when a CUDA device can be used.</summary>
    public bool CudaAvailable { get; init; }

    /// <summary>Names of the CUDA devices (empty without CUDA).</summary>
    public IReadOnlyList<string> CudaDevices { get; init; } = Array.Empty<string>();

    /// <summary>Intra-op threads torch uses.</summary>
    public int TorchThreads { get; init; }

    /// <summary>How libtorch's MKL picks its matrix-product kernels: <c>features</c>, <c>intel</c> or <c>vendor (why)</c>.</summary>
    public string? MklDispatch { get; init; }
    /// <summary>libtorch's oneDNN convolutions: "off" (the default: they gave garbage gradients, see the engine's Runtime/OneDnn.cs) or "on (…)".</summary>
    public string? OneDnn { get; init; }

    /// <summary>Why libtorch could not be used, when it could not.</summary>
    public string? Error { get; init; }
}
