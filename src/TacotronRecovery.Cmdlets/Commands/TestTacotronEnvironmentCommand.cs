using System.Collections;
using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Text.Json;
using TacotronRecovery.Commands.Engine;
using TacotronRecovery.Core.Contract;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Commands;

/// <summary>
/// <para type="synopsis">Reports whether this machine can train: OS, .NET, PowerShell, TorchSharp and libtorch, CPU threads, CUDA, free disk.</para>
/// <para type="description">Starts the engine process once to load libtorch and run a tensor operation, so a broken native
/// install shows up here rather than in the middle of a training. Emits one EnvironmentReport whose Verdict says
/// in one line whether training can start.</para>
/// <example><code>Test-TacotronEnvironment</code><para>Shows the report.</para></example>
/// <example><code>if (-not (Test-TacotronEnvironment).LibTorchLoaded) { throw 'libtorch is broken' }</code><para>Guard a script.</para></example>
/// <example><code>Copy-Item (Test-TacotronEnvironment).PyTorchAdapter ./</code><para>Copies the PyTorch adapter (tacotron_recovery.py) next to a train.py (docs/scale-out.md).</para></example>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "TacotronEnvironment")]
[OutputType(typeof(EnvironmentReport))]
public sealed class TestTacotronEnvironmentCommand : PSCmdlet
{
    /// <summary>
    /// <para type="description">Folder where runs are written; its free space is reported. Default: ./runs.</para>
    /// </summary>
    [Parameter(Position = 0)]
    public string RunsPath { get; set; } = "runs";

    /// <summary>Where the module keeps the PyTorch adapter: python/tacotron_recovery.py beside the module's assembly.</summary>
    internal static string AdapterPath => Path.Combine(Path.GetDirectoryName(typeof(TestTacotronEnvironmentCommand).Assembly.Location)!, "python", "tacotron_recovery.py");

    /// <inheritdoc />
    protected override void EndProcessing()
    {
        var runs = GetUnresolvedProviderPathFromPSPath(RunsPath);
        EngineInfo info;
        try
        {
            var r = EngineHost.Run(TimeSpan.FromMinutes(2), "env");
            info = r.ExitCode == ExitCodes.Ok
                ? r.Result(EngineEnvelope.Env)?.Deserialize<EngineInfo>(RunJson.Options) ?? new EngineInfo { Error = "empty engine answer" }
                : new EngineInfo { Error = $"engine exited with {r.ExitCode}: {r.StdErr.Trim()}" };
        }
        catch (Exception e) when (e is FileNotFoundException or TimeoutException or InvalidOperationException or System.ComponentModel.Win32Exception or JsonException)
        {
            info = new EngineInfo { Error = e.Message };
        }

        var probe = runs;
        while (!Directory.Exists(probe) && Path.GetDirectoryName(probe) is { } parent) probe = parent;
        long? freeBytes = null;
        try { freeBytes = new DriveInfo(probe).AvailableFreeSpace; } catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException) { }
        var freeGb = freeBytes is { } f ? Math.Round(f / 1e9, 1) : double.NaN;
        var verdict = EnvironmentVerdict.Compose(info, freeBytes, runs);

        WriteObject(new EnvironmentReport
        {
            OS = RuntimeInformation.OSDescription,
            DotNet = RuntimeInformation.FrameworkDescription,
            PowerShell = ((Hashtable)SessionState.PSVariable.GetValue("PSVersionTable"))["PSVersion"]?.ToString() ?? "",
            TorchSharp = info.TorchSharpVersion,
            LibTorch = info.LibTorchVersion,
            LibTorchLoaded = info.LibTorchLoaded,
            CpuThreads = Environment.ProcessorCount,
            TorchThreads = info.TorchThreads,
            MklDispatch = info.MklDispatch,
            OneDnn = info.OneDnn,
            CudaAvailable = info.CudaAvailable,
            CudaDevices = info.CudaDevices.ToArray(),
            RunsPath = runs,
            FreeDiskGB = freeGb,
            PyTorchAdapter = File.Exists(AdapterPath) ? AdapterPath : null,
            Verdict = verdict,
        });
    }
}
