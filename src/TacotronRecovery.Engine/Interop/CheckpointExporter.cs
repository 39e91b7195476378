using System.Text.Json;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Engine.Checkpoints;
using TacotronRecovery.Engine.Model;
using TorchSharp.PyBridge;

namespace TacotronRecovery.Engine.Interop;

/// <summary>What an export produced.</summary>
public sealed record ExportResult(string Path, string Source, int Step, ModelOptions Model, int Tensors);

/// <summary>
/// Writes one of our checkpoints as a PyTorch file (TorchSharp.PyBridge <c>save_py</c>: the zip container PyTorch
/// ≥ 1.6 reads, a plain dict of fp32 tensors with the reference's keys) that the reference model loads with
/// <c>load_state_dict(torch.load(path), strict=True)</c>. NVIDIA's train.py and inference notebook expect
/// <c>checkpoint['state_dict']</c>: wrap it as <c>{'state_dict': torch.load(path)}</c> there.
/// </summary>
public static class CheckpointExporter
{
    /// <summary>Exports <paramref name="checkpoint"/> (.ckpt) to <paramref name="destination"/> (written atomically).</summary>
    public static ExportResult Export(string checkpoint, string destination)
    {
        checkpoint = Path.GetFullPath(checkpoint);
        var loaded = CheckpointFile.Read(checkpoint);
        var options = loaded.Meta["model"]?.Deserialize<ModelOptions>(RunJson.Options)
            ?? throw new CheckpointCorruptException(checkpoint, "its metadata has no model dimensions");
        using var model = new Tacotron2("tacotron2", options);
        loaded.ApplyTo(model);
        destination = Path.GetFullPath(destination);
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        var temp = destination + ".tmp-" + Environment.ProcessId;
        using (var fs = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            model.save_py(fs, leaveOpen: true);
            fs.Flush(flushToDisk: true);
        }
        File.Move(temp, destination, overwrite: true);
        int step = loaded.Meta["step"]?.GetValue<int>() ?? 0;
        return new ExportResult(destination, checkpoint, step, options, model.state_dict().Count);
    }
}
