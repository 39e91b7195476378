using TacotronRecovery.Engine.Runtime;

namespace TacotronRecovery.Engine.Tests.Runtime;

[Collection("torch")]
public class TorchRuntimeTests
{
    [Fact]
    public void Describe_OnThisMachine_LoadsLibTorch210()
    {
        var info = TorchRuntime.Describe();
        Assert.True(info.LibTorchLoaded, info.Error);
        Assert.StartsWith("2.10", info.LibTorchVersion);
        Assert.False(info.CudaAvailable);
    }

    [Fact]
    public void ResolveDevice_CudaWithoutCuda_ThrowsNamingTheDevice()
    {
        var e = Assert.Throws<InvalidOperationException>(() => TorchRuntime.ResolveDevice("cuda"));
        Assert.Contains("'cuda'", e.Message);
        Assert.Contains("CUDA is not available", e.Message);
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("cpu")]
    [InlineData(null)]
    public void ResolveDevice_AutoOrCpu_IsCpuHere(string? spec)
    {
        Assert.Equal(TorchSharp.DeviceType.CPU, TorchRuntime.ResolveDevice(spec).type);
    }

    [Fact]
    public void ResolveDevice_Unknown_ThrowsArgumentException()
    {
        var e = Assert.Throws<ArgumentException>(() => TorchRuntime.ResolveDevice("tpu"));
        Assert.Contains("tpu", e.Message);
    }
}
