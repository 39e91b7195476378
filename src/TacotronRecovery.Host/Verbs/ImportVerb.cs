using System.Text.Json;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Engine.Interop;

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
            InteropOutput.Write("import", new
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

/// <summary>JSON output and error mapping shared by the interop verbs.</summary>
internal static class InteropOutput
{
    /// <summary>Writes one <c>{"type": type, "data": data}</c> line to stdout.</summary>
    public static void Write(string type, object data) =>
        Console.Out.WriteLine(JsonSerializer.Serialize(new { type, data }, RunJson.Options));

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
            Write("error", new { ErrorId = e.ErrorId, e.Message, e.Path });
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.BadInput;
        }
    }
}
