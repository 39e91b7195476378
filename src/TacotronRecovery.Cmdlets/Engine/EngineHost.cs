using System.Diagnostics;
using TacotronRecovery.Core.Contract;

namespace TacotronRecovery.Commands.Engine;

/// <summary>
/// Finds and starts the engine process (TacotronRecovery.Host), which owns libtorch. The cmdlets never load torch:
/// a libtorch abort kills the engine, not the user's shell.
/// </summary>
internal static class EngineHost
{
    /// <summary>Path of the engine assembly: <c>$env:TACOTRON_ENGINE_PATH</c>, else <c>engine/</c> beside the module.</summary>
    public static string EnginePath
    {
        get
        {
            var overridePath = Environment.GetEnvironmentVariable("TACOTRON_ENGINE_PATH");
            if (!string.IsNullOrEmpty(overridePath)) return overridePath;
            var moduleDir = Path.GetDirectoryName(typeof(EngineHost).Assembly.Location)!;
            return Path.Combine(moduleDir, "engine", "TacotronRecovery.Host.dll");
        }
    }

    /// <summary>The dotnet muxer that runs the engine: the current process when it is dotnet, else DOTNET_HOST_PATH, else PATH.</summary>
    public static string DotnetPath
    {
        get
        {
            var self = Environment.ProcessPath;
            if (self is not null && Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase)) return self;
            var hostPath = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrEmpty(hostPath) && File.Exists(hostPath)) return hostPath;
            var root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
            if (!string.IsNullOrEmpty(root))
            {
                var candidate = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
                if (File.Exists(candidate)) return candidate;
            }
            return "dotnet";
        }
    }

    /// <summary>Start info for one engine verb; stdout and stderr redirected.</summary>
    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var engine = EnginePath;
        if (!File.Exists(engine))
            throw new FileNotFoundException($"The engine host was not found at '{engine}'. Build the module with 'build.ps1 build' or set TACOTRON_ENGINE_PATH.", engine);
        var psi = new ProcessStartInfo(DotnetPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // libgomp's default spin-waiting collapses throughput when cores are shared (measured: 2 threads 13–40 s per
        // step instead of ~3 s); passive waiting costs nothing measurable when they are not. See docs/benchmarks.md.
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OMP_WAIT_POLICY"))) psi.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        psi.ArgumentList.Add(engine);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return psi;
    }

    /// <summary>Runs a short verb to completion and returns its exit code, its stdout records and its stderr.</summary>
    public static EngineResult Run(TimeSpan timeout, params string[] args)
    {
        using var p = Process.Start(StartInfo(args)) ?? throw new InvalidOperationException("The engine process did not start.");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit((int)timeout.TotalMilliseconds))
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw new TimeoutException($"The engine verb '{string.Join(' ', args)}' did not finish within {timeout.TotalSeconds:0} s.");
        }
        return new EngineResult(p.ExitCode, EngineEnvelope.ParseAll(stdout.Result), stderr.Result);
    }
}
