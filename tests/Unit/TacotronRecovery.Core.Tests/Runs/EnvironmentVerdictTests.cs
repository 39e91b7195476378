using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Tests.Runs;

public sealed class EnvironmentVerdictTests
{
    private static readonly EngineInfo Loaded = new() { LibTorchLoaded = true, TorchThreads = 2 };

    [Theory]
    [InlineData(0L, "Not ready: the disk at /r is full (0 MB free)")]
    [InlineData(100_000_000L, "Not ready: the disk at /r is full (100 MB free)")]
    [InlineData(1_500_000_000L, "Ready on CPU, but only 1.5 GB free at /r.")]
    [InlineData(50_000_000_000L, "Ready: training runs on CPU with 2 threads.")]
    public void FreeSpace_DecidesTheVerdict(long free, string expected) =>
        Assert.StartsWith(expected, EnvironmentVerdict.Compose(Loaded, free, "/r"));

    [Fact]
    public void UnknownFreeSpace_IsSaidNotTakenForPlenty() =>
        Assert.Contains("could not be read", EnvironmentVerdict.Compose(Loaded, null, "/r"));

    [Fact]
    public void LibTorchMissing_ComesFirst() =>
        Assert.StartsWith("Not ready: libtorch did not load (boom)", EnvironmentVerdict.Compose(new EngineInfo { Error = "boom" }, 0, "/r"));
}
