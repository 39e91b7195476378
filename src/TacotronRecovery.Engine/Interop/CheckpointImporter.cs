using System.Text.Json;
using System.Text.Json.Nodes;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Engine.Checkpoints;
using TacotronRecovery.Engine.Model;
using TacotronRecovery.Engine.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Interop;

/// <summary>Options of <see cref="CheckpointImporter.Import"/>.</summary>
public sealed record ImportOptions
{
    /// <summary>
    /// State-dict key prefixes left at fresh initialisation, as the reference's warm start (<c>ignore_layers</c>), e.g.
    /// <c>embedding.weight</c> for a new symbol set. Their shapes need not match.
    /// </summary>
    public IReadOnlyList<string> IgnoreLayers { get; init; } = Array.Empty<string>();
    /// <summary>Vocabulary size of the new model (with <c>embedding.weight</c> ignored); default: the file's.</summary>
    public int? NSymbols { get; init; }
    /// <summary>Seed of the fresh initialisation of ignored layers (and of the model built before loading).</summary>
    public int Seed { get; init; } = 1234;
    /// <summary>Creation time written to the metadata (injectable for tests).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>What an import produced.</summary>
public sealed record ImportResult
{
    /// <summary>The .ckpt written.</summary>
    public required string Path { get; init; }
    /// <summary>The PyTorch file read.</summary>
    public required string Source { get; init; }
    /// <summary>zip or legacy.</summary>
    public required TorchFileFormat Format { get; init; }
    /// <summary>train.py or state_dict.</summary>
    public required string Layout { get; init; }
    /// <summary>The training step (train.py's iteration; 0 for a bare state dict).</summary>
    public required int Step { get; init; }
    /// <summary>The inferred model dimensions.</summary>
    public required ModelOptions Model { get; init; }
    /// <summary>Trainable parameter elements.</summary>
    public required long Parameters { get; init; }
    /// <summary>True when weights were stored in fp16 (converted to fp32).</summary>
    public required bool HalfPrecision { get; init; }
    /// <summary>True when the PyTorch Adam state was converted and written with the checkpoint.</summary>
    public required bool OptimizerCarried { get; init; }
    /// <summary>Keys left at fresh initialisation (-IgnoreLayers).</summary>
    public required IReadOnlyList<string> IgnoredKeys { get; init; }
    /// <summary>Things the user should know (optimizer not carried and why, …).</summary>
    public required IReadOnlyList<string> Warnings { get; init; }
}

/// <summary>
/// Imports an NVIDIA-format PyTorch Tacotron 2 checkpoint into our <c>.ckpt</c> format, so that training resumes from
/// it (<c>Start-TacotronTraining -Checkpoint</c>) and the synthesizer speaks with it. See docs/interop.md.
/// </summary>
public static class CheckpointImporter
{
    private static readonly string[] BufferSuffixes = { ".running_mean", ".running_var", ".num_batches_tracked" };

    /// <summary>Imports <paramref name="source"/> into <paramref name="destination"/> (written atomically).</summary>
    public static ImportResult Import(string source, string destination, ImportOptions? options = null)
    {
        options ??= new ImportOptions();
        source = System.IO.Path.GetFullPath(source);
        using var checkpoint = PyTorchCheckpoint.Read(source);
        var model = ModelShapeInference.Infer(checkpoint.Shapes, source, options.NSymbols);
        var warnings = new List<string>();

        Tacotron2 net;
        try
        {
            net = SeededRandom.Run(options.Seed, () => new Tacotron2("tacotron2", model));
        }
        catch (ArgumentException e)
        {
            throw new InteropException("CheckpointInvalid", source, "the inferred dimensions do not make a valid model: " + e.Message);
        }

        using (net)
        {
            var ignored = LoadWeights(net, checkpoint, options.IgnoreLayers, source);
            var parameters = net.named_parameters().ToList();
            var adam = new ScalarSafe.Adam(parameters.Select(p => p.parameter), checkpoint.LearningRate ?? 1e-3, 0.0);
            bool carried = false;
            if (checkpoint.OptimizerState is not null)
            {
                carried = AdamState.TryApply(checkpoint.OptimizerState, adam, parameters.Select(p => p.name).ToList(),
                    checkpoint.StateDict, ignored, out var why);
                if (!carried) warnings.Add($"The optimizer state was not carried over ({why}); training resumes with a fresh Adam optimizer.");
            }
            else if (checkpoint.Layout == "train.py")
            {
                warnings.Add("The checkpoint has no optimizer state; training resumes with a fresh Adam optimizer.");
            }

            int step = checkpoint.Iteration ?? 0;
            var meta = new JsonObject
            {
                ["format"] = 1,
                ["step"] = step,
                ["epoch"] = 0,
                ["position"] = 0,
                ["batch_size"] = new TrainingOptions().BatchSize,
                ["seed"] = options.Seed,
                ["reason"] = "imported",
                ["created"] = options.Time.GetUtcNow().ToString("O"),
                ["model"] = JsonSerializer.SerializeToNode(model, RunJson.Options),
                ["data"] = JsonSerializer.SerializeToNode(new DataOptions(), RunJson.Options),
                ["loss"] = null,
                ["diagonality"] = null,
                ["good"] = true,
                ["imported_from"] = source,
                ["imported_format"] = checkpoint.Format.ToString().ToLowerInvariant(),
                ["imported_layout"] = checkpoint.Layout,
                ["imported_fp16"] = checkpoint.HalfPrecision,
                ["ignored_layers"] = new JsonArray(ignored.Select(k => (JsonNode?)JsonValue.Create(k)).ToArray()),
            };
            destination = System.IO.Path.GetFullPath(destination);
            CheckpointFile.Write(destination, meta, net, carried ? adam : null);
            adam.Dispose();
            return new ImportResult
            {
                Path = destination, Source = source, Format = checkpoint.Format, Layout = checkpoint.Layout, Step = step,
                Model = model, Parameters = net.ParameterCount(), HalfPrecision = checkpoint.HalfPrecision,
                OptimizerCarried = carried, IgnoredKeys = ignored, Warnings = warnings,
            };
        }
    }

    /// <summary>
    /// Copies the checkpoint's tensors into <paramref name="net"/> (strict on keys and shapes except the ignored
    /// prefixes and a missing <c>num_batches_tracked</c>). Returns the model keys that were left fresh.
    /// </summary>
    internal static IReadOnlyList<string> LoadWeights(nn.Module net, PyTorchCheckpoint checkpoint, IReadOnlyList<string> ignoreLayers, string source)
    {
        static bool Matches(string key, string prefix) => key == prefix || key.StartsWith(prefix.EndsWith('.') ? prefix : prefix + ".", StringComparison.Ordinal);
        bool Ignored(string key) => ignoreLayers.Any(p => Matches(key, p));
        var expected = net.state_dict();
        var problems = new List<string>();
        var ignored = new List<string>();
        foreach (var (key, tensor) in expected)
        {
            if (Ignored(key)) { ignored.Add(key); continue; }
            if (!checkpoint.StateDict.TryGetValue(key, out var loaded))
            {
                if (key.EndsWith(".num_batches_tracked", StringComparison.Ordinal)) continue; // PyTorch < 0.4.1 files
                problems.Add($"missing {key} {ModelShapeInference.Format(tensor.shape)}");
                continue;
            }
            if (!loaded.shape.SequenceEqual(tensor.shape))
                problems.Add($"shape of {key}: file {ModelShapeInference.Format(loaded.shape)}, model {ModelShapeInference.Format(tensor.shape)}");
        }
        foreach (var key in checkpoint.KeyOrder.Where(k => !expected.ContainsKey(k) && !Ignored(k)))
            problems.Add($"unexpected {key} {ModelShapeInference.Format(checkpoint.StateDict[key].shape)}");
        var unknownIgnores = ignoreLayers.Where(p => !expected.Keys.Concat(checkpoint.KeyOrder).Any(k => Matches(k, p))).ToList();
        if (unknownIgnores.Count > 0)
            problems.Add($"-IgnoreLayers {string.Join(", ", unknownIgnores)} matches no model key (keys look like embedding.weight, decoder.prenet)");
        if (problems.Count > 0)
        {
            var hint = problems.Any(p => p.Contains("decoder.prenet.layers.0", StringComparison.Ordinal)) && checkpoint.StateDict.ContainsKey("decoder.linear_projection.linear_layer.weight")
                ? " (with n_frames_per_step > 1 the NVIDIA prenet reads all r frames of the previous step, ours reads the last one: import with -IgnoreLayers decoder.prenet to re-learn it)"
                : "";
            throw new InteropException("CheckpointInvalid", source,
                $"its state dict does not fit the Tacotron 2 its shapes imply: {string.Join("; ", problems)}{hint}");
        }

        using (no_grad())
        {
            foreach (var (key, tensor) in expected)
            {
                if (Ignored(key) || !checkpoint.StateDict.TryGetValue(key, out var loaded)) continue;
                tensor.copy_(loaded.to_type(tensor.dtype));
            }
        }
        return ignored;
    }

    internal static bool IsBuffer(string key) => BufferSuffixes.Any(s => key.EndsWith(s, StringComparison.Ordinal));
}
