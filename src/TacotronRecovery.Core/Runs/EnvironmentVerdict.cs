namespace TacotronRecovery.Core.Runs;

/// <summary>The one-line verdict of Test-TacotronEnvironment, from the engine's report and the free disk space.</summary>
public static class EnvironmentVerdict
{
    /// <summary>Below this much free space a run cannot be trusted to write its checkpoints (a demo one is ~20 MB, nvidia ~340 MB).</summary>
    public const long FullBytes = 512L << 20;

    /// <summary>Below this much free space a long run will fill the disk with checkpoints.</summary>
    public const long LowBytes = 2_000_000_000L;

    /// <summary>
    /// The verdict. <paramref name="freeBytes"/> null means the free space could not be read, which is said, never taken
    /// for plenty. A full disk is Not ready: a run would die at its first checkpoint.
    /// </summary>
    public static string Compose(EngineInfo info, long? freeBytes, string runsPath)
    {
        if (!info.LibTorchLoaded) return $"Not ready: libtorch did not load ({info.Error}).";
        if (freeBytes is < FullBytes)
            return $"Not ready: the disk at {runsPath} is full ({freeBytes.Value / 1e6:0} MB free); checkpoints cannot be written.";
        var device = info.CudaAvailable ? $"CUDA ({string.Join(", ", info.CudaDevices)})" : $"CPU with {info.TorchThreads} threads";
        if (freeBytes is null) return $"Ready: training runs on {device}; the free space at {runsPath} could not be read.";
        if (freeBytes < LowBytes) return $"Ready on {(info.CudaAvailable ? "CUDA" : "CPU")}, but only {freeBytes.Value / 1e9:0.0} GB free at {runsPath}.";
        return $"Ready: training runs on {device}.";
    }
}
