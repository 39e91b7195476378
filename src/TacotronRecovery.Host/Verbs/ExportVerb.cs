using TacotronRecovery.Engine.Interop;
using TacotronRecovery.Core.Contract;

namespace TacotronRecovery.Host.Verbs;

/// <summary>
/// <c>export --checkpoint F.ckpt --out F.pt [--format pytorch] [--layout train.py|state_dict]</c>: one of our checkpoints
/// as NVIDIA train.py's checkpoint dict (default) or a bare PyTorch state dict.
/// One JSON line <c>{"type":"export","data":{…}}</c>.
/// </summary>
public static class ExportVerb
{
    /// <summary>Runs the verb.</summary>
    public static int Run(Arguments args)
    {
        var checkpoint = args.Get("checkpoint") ?? throw new UsageException("export needs --checkpoint (a .ckpt file).");
        var output = args.Get("out") ?? throw new UsageException("export needs --out (the .pt to write).");
        var format = args.Get("format") ?? "pytorch";
        var layout = args.Get("layout") ?? CheckpointExporter.TrainPy;
        args.RejectUnknown();
        if (!format.Equals("pytorch", StringComparison.OrdinalIgnoreCase))
            throw new UsageException($"export --format '{format}' is not supported (expected pytorch).");
        if (layout is not (CheckpointExporter.TrainPy or CheckpointExporter.StateDict))
            throw new UsageException($"export --layout '{layout}' is not supported (train.py or state_dict).");
        return InteropOutput.Guard(() =>
        {
            var r = CheckpointExporter.Export(checkpoint, output, layout);
            EngineEnvelope.Write(Console.Out, EngineEnvelope.Export, new { r.Path, r.Source, Format = "PyTorch", r.Step, r.Model, r.Tensors, r.Layout, r.LearningRate, r.OptimizerCarried });
        });
    }
}
