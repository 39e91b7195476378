using TacotronRecovery.Core.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Runtime;

/// <summary>Process-wide torch setup: device choice, thread count, runtime facts.</summary>
public static class TorchRuntime
{
    /// <summary>
    /// Resolves <c>auto</c>, <c>cpu</c> or <c>cuda</c> (optionally <c>cuda:N</c>) to a device.
    /// <c>cuda</c> without a usable CUDA device is an error that says so; <c>auto</c> falls back to the CPU.
    /// </summary>
    public static torch.Device ResolveDevice(string? spec)
    {
        var s = string.IsNullOrWhiteSpace(spec) ? "auto" : spec.Trim().ToLowerInvariant();
        if (s == "auto") return cuda.is_available() ? CUDA : CPU;
        if (s == "cpu") return CPU;
        if (s == "cuda" || s.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
                throw new InvalidOperationException(
                    $"Device '{spec}' was requested but CUDA is not available in this build or on this machine " +
                    "(this module was built with the CPU libtorch; build with -Cuda on Windows for a CUDA build). Use --device cpu or auto.");
            return torch.device(s);
        }
        throw new ArgumentException($"Unknown device '{spec}': expected auto, cpu, cuda or cuda:N.", nameof(spec));
    }

    private static bool _threadsSet;

    /// <summary>
    /// Sets torch intra-op threads once per process (0 = one per core). Inter-op threads are left alone:
    /// setting them twice aborts the process.
    /// </summary>
    public static void SetThreads(int threads)
    {
        if (_threadsSet) return;
        int n = threads > 0 ? threads : Environment.ProcessorCount;
        torch.set_num_threads(n);
        _threadsSet = true;
    }

    /// <summary>Facts about the loaded runtime; never throws (a load failure is reported in <see cref="EngineInfo.Error"/>).</summary>
    public static EngineInfo Describe()
    {
        try
        {
            using var a = torch.ones(2, 2);
            var sum = a.add(a, Model.Scalars.One).sum().item<float>();
            if (sum != 8f) throw new InvalidOperationException("libtorch computed a wrong sum.");
            var devices = new List<string>();
            bool cudaOk = cuda.is_available();
            if (cudaOk)
                for (int i = 0; i < cuda.device_count(); i++) devices.Add($"cuda:{i}");
            return new EngineInfo
            {
                LibTorchLoaded = true,
                TorchSharpVersion = typeof(torch).Assembly.GetName().Version?.ToString(),
                LibTorchVersion = torch.__version__,
                CudaAvailable = cudaOk,
                CudaDevices = devices,
                TorchThreads = torch.get_num_threads(),
                MklDispatch = MklDispatch.State,
                OneDnn = OneDnn.State,
            };
        }
        catch (Exception e)
        {
            return new EngineInfo { LibTorchLoaded = false, Error = e.Message, TorchSharpVersion = typeof(torch).Assembly.GetName().Version?.ToString() };
        }
    }
}
