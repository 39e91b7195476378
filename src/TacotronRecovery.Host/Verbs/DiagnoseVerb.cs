using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Data;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Engine.Inference;
using TacotronRecovery.Core.Contract;

namespace TacotronRecovery.Host.Verbs;

/// <summary>
/// <c>diagnose --checkpoint F [--dataset DIR | --config F] [--count N] [--text "a\nb"] [--plot-folder DIR]</c>:
/// free-running synthesis of held-out sentences (or of the given texts, one per line) with per-utterance attention
/// metrics, one JSON line <c>{"type":"diagnosis","data":{...}}</c> per utterance as it is done.
/// The dataset is -dataset, else the data section of --config, else the config.yaml of the run the checkpoint belongs
/// to (<c>runs/&lt;name&gt;/checkpoints/*.ckpt</c>). A dataset problem prints <c>{"type":"error","data":{"error_id":...}}</c>
/// and exits 5 (DatasetNotFound, ConfigInvalid, ...); an unusable checkpoint exits 5 without that line.
/// </summary>
public static class DiagnoseVerb
{
    /// <summary>Runs the verb.</summary>
    public static int Run(Arguments args)
    {
        var checkpoint = Path.GetFullPath(args.Get("checkpoint") ?? throw new UsageException("diagnose needs --checkpoint."));
        var dataset = args.Get("dataset");
        var configPath = args.Get("config");
        int count = args.Int("count") ?? 8;
        var texts = args.Get("text")?.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var plotFolder = args.Get("plot-folder");
        args.RejectUnknown();
        if (count < 1) throw new UsageException("--count must be at least 1.");
        if (texts is { Length: 0 }) throw new UsageException("--text holds no sentence.");

        using var diagnostics = new AttentionDiagnostics(checkpoint);
        IReadOnlyList<DiagnosticInput> inputs;
        if (texts is not null)
        {
            var list = new List<DiagnosticInput>();
            for (int i = 0; i < texts.Length; i++)
            {
                try { list.Add(new DiagnosticInput($"text-{i + 1}", texts[i], diagnostics.Encode(texts[i]))); }
                catch (ArgumentException e) { throw new UsageException($"--text line {i + 1}: {e.Message}"); }
            }
            inputs = list;
        }
        else
        {
            var loaded = LoadSentences(checkpoint, diagnostics.Data, dataset, configPath, count);
            if (loaded is null) return ExitCodes.BadInput;
            inputs = loaded;
        }

        if (plotFolder is not null) Directory.CreateDirectory(plotFolder);
        foreach (var d in diagnostics.Diagnose(inputs))
        {
            string? plot = null;
            if (plotFolder is not null)
            {
                plot = Path.GetFullPath(Path.Combine(plotFolder, $"attention-{SafeName(d.Id)}.png"));
                var title = $"{d.Id} step {diagnostics.Step}: diagonality {d.Score.Diagonality:0.00}{(d.HitMaxSteps ? ", gate never fired" : "")}";
                Plots.Alignment(plot, d.Alignment, d.AlignmentSteps, d.Tokens, title);
            }
            Write(EngineEnvelope.Diagnosis, new
            {
                d.Id, d.Text, d.Tokens, d.TrueFrames, d.PredictedFrames, d.HitMaxSteps, StoppedBy = d.StoppedBy.ToString(),
                d.Score.Diagonality, d.Score.FocusRate, d.Score.Coverage, d.Score.Monotonicity, d.Score.ReachedEnd, d.Score.EndStall,
                d.StopCorrect, d.LengthWithin10, d.McdDtw, Plot = plot, Checkpoint = checkpoint, diagnostics.Step,
            });
        }
        return ExitCodes.Ok;
    }

    /// <summary>Validation sentences, or null after printing an error line.</summary>
    private static IReadOnlyList<DiagnosticInput>? LoadSentences(string checkpoint, DataOptions fromCheckpoint, string? dataset, string? configPath, int count)
    {
        DataOptions data;
        string baseDir = Directory.GetCurrentDirectory();
        if (dataset is not null)
        {
            data = fromCheckpoint with { Path = Path.GetFullPath(dataset), TrainFilelist = null, ValidationFilelist = null, MelCachePath = null };
        }
        else
        {
            configPath ??= RunDirectory.OwnerOf(checkpoint)?.ConfigFile;
            if (configPath is null)
                return Error("DatasetNotFound", $"No dataset is known for '{checkpoint}': it is not inside a run folder (runs/<name>/checkpoints/) with a config.yaml. Pass -Dataset <folder> (an LJSpeech-style folder) or -Text.");
            TacotronConfig config;
            try { config = ConfigLoader.Load(configPath); }
            catch (ConfigException e) { return Error(e.ErrorId, e.Message); }
            if (string.IsNullOrWhiteSpace(config.Data.Path) && string.IsNullOrWhiteSpace(config.Data.TrainFilelist))
                return Error("DatasetNotFound", $"The run config '{configPath}' names no dataset (data.path). Pass -Dataset <folder> or -Text.");
            data = fromCheckpoint with
            {
                Path = config.Data.Path, TrainFilelist = config.Data.TrainFilelist, ValidationFilelist = config.Data.ValidationFilelist,
                MelCachePath = config.Data.MelCachePath,
            };
            baseDir = Path.GetDirectoryName(Path.GetFullPath(configPath))!;
        }
        try
        {
            var sentences = AttentionDiagnostics.ValidationSentences(data, baseDir, count, out bool training,
                p => Console.Error.WriteLine($"data: skipped line {p.Line} ({p.Id}): {p.Code}: {p.Message}"));
            if (sentences.Count == 0)
                return Error("DatasetEmpty", $"The dataset at '{data.Path ?? data.TrainFilelist}' has no usable rows. Check it with Test-TacotronDataset.");
            if (training) Write(EngineEnvelope.Warning, new { Message = "The dataset has no validation rows; training rows were used (the model has seen them)." });
            return sentences;
        }
        catch (DatasetNotFoundException e)
        {
            return Error("DatasetNotFound", $"{e.Message} Pass -Dataset <folder> to use another location.");
        }
        catch (ArgumentException e)
        {
            return Error("DatasetNotFound", $"{e.Message} Pass -Dataset <folder>.");
        }
    }

    private static IReadOnlyList<DiagnosticInput>? Error(string id, string message)
    {
        Write(EngineEnvelope.Error, new EngineError { ErrorId = id, Message = message });
        Console.Error.WriteLine($"error: {message}");
        return null;
    }

    private static void Write(string type, object data) => EngineEnvelope.Write(Console.Out, type, data);

    private static string SafeName(string id)
    {
        var invalid = Path.GetInvalidFileNameChars();
        return new string(id.Select(c => invalid.Contains(c) || char.IsWhiteSpace(c) ? '_' : c).ToArray());
    }
}
