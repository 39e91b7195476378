using TacotronRecovery.Core.Runs;
using TacotronRecovery.Engine.Interop;
using TacotronRecovery.Core.Contract;

namespace TacotronRecovery.Host.Verbs;

/// <summary>
/// <c>import --source F.pt --out F.ckpt [--ignore-layers a,b] [--n-symbols N] [--seed N]</c>: an NVIDIA-format
/// PyTorch checkpoint into our format. One JSON line <c>{"type":"import","data":{…}}</c>; on bad input one
/// <c>{"type":"error","data":{"error_id","message"}}</c> line and exit code 5.
/// </summary>
public static class ImportVerb
{
    /// <summary>Runs the verb.</summary>
    public static int Run(Arguments args)
    {
        var source = args.Get("source") ?? throw new UsageException("import needs --source (a PyTorch .pt file).");
        var output = args.Get("out") ?? throw new UsageException("import needs --out (the .ckpt to write).");
        var ignore = (args.Get("ignore-layers") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        int? symbols = args.Int("n-symbols");
        int seed = args.Int("seed") ?? 1234;
        args.RejectUnknown();
        return InteropOutput.Guard(() =>
        {
            var r = CheckpointImporter.Import(source, output, new ImportOptions { IgnoreLayers = ignore, NSymbols = symbols, Seed = seed });
            foreach (var w in r.Warnings) Console.Error.WriteLine("warning: " + w);
            EngineEnvelope.Write(Console.Out, EngineEnvelope.Import, new
            {
                r.Path, r.Source, Format = r.Format.ToString().ToLowerInvariant(), r.Layout, r.Step, r.Model, r.Parameters,
                r.HalfPrecision, r.OptimizerCarried, r.IgnoredKeys, r.Warnings,
                Preset = ModelShapeInference.MatchingPreset(r.Model) ?? "custom",
                Dimensions = ModelShapeInference.Describe(r.Model),
                ConfigYaml = ModelShapeInference.ConfigYaml(r.Model),
            });
        });
    }
}

/// <summary>Error mapping shared by the interop verbs.</summary>
internal static class InteropOutput
{
    /// <summary>Runs <paramref name="action"/>; an <see cref="InteropException"/> becomes an error line and exit code 5.</summary>
    public static int Guard(Action action)
    {
        try
        {
            action();
            return ExitCodes.Ok;
        }
        catch (InteropException e)
        {
            EngineEnvelope.Write(Console.Out, EngineEnvelope.Error, new EngineError { ErrorId = e.ErrorId, Message = e.Message, Path = e.Path });
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.BadInput;
        }
    }
}
