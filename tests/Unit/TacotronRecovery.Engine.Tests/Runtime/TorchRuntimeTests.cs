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

    [Fact]
    public void MklDispatch_Enable_ChoosesByFeaturesAndProductsStayExact()
    {
        var state = MklDispatch.Enable();
        Assert.Equal(state, MklDispatch.Enable()); // once per process
        Assert.Equal(state, TorchRuntime.Describe().MklDispatch);
        if (OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64
            && Environment.GetEnvironmentVariable(MklDispatch.OptOutVariable) != "1")
        {
            Assert.True(state.StartsWith("features (", StringComparison.Ordinal) || state == "intel", state);
        }

        var g = new TorchSharp.torch.Generator(5);
        var x = TorchSharp.torch.randn(new long[] { 16, 768 }, generator: g);
        var w = TorchSharp.torch.randn(new long[] { 2048, 768 }, generator: g);
        var exact = x.to_type(TorchSharp.torch.ScalarType.Float64).mm(w.t().to_type(TorchSharp.torch.ScalarType.Float64));
        Assert.True(x.mm(w.t()).to_type(TorchSharp.torch.ScalarType.Float64).allclose(exact, rtol: 1e-4, atol: 1e-3));
    }

    [Fact]
    public void NativeHeap_Tune_SetsGlibcThresholdsOnceAndTensorsStillWork()
    {
        var state = NativeHeap.Tune();
        Assert.Equal(state, NativeHeap.Tune());
        if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable(NativeHeap.OptOutVariable) != "1" && File.Exists("/lib/x86_64-linux-gnu/libc.so.6"))
            Assert.StartsWith("tuned (", state);
        using var big = TorchSharp.torch.ones(new long[] { 4 << 20 }); // 16 MiB: below the new mmap threshold, from the heap
        Assert.Equal(4 << 20, big.sum().item<float>());
    }
}
