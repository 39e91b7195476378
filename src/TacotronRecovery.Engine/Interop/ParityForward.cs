using System.Text.Json;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Engine.Checkpoints;
using TacotronRecovery.Engine.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Interop;

/// <summary>What a parity forward wrote.</summary>
public sealed record ForwardResult(string Path, string Checkpoint, int Batch, int InputTokens, int Frames, IReadOnlyDictionary<string, long[]> Shapes);

/// <summary>
/// The parity tool: a teacher-forced forward with every dropout off (encoder, prenet — which the reference keeps on
/// even in eval — attention and decoder RNNs, postnet) and batch norm in inference mode, on the arrays of an .npz
/// (<c>text</c> int64 [B, N], <c>input_lengths</c> [B], <c>mel</c> float32 [B, n_mel, T], <c>output_lengths</c> [B]).
/// Writes <c>encoder_outputs</c> [B, N, E], <c>mel_outputs</c> and <c>mel_outputs_postnet</c> [B, n_mel, T],
/// <c>gate_outputs</c> [B, T], <c>alignments</c> [B, T/r, N] as float32, the reference's shapes.
/// The checkpoint may be one of ours (.ckpt) or an NVIDIA-format PyTorch file (imported in memory).
/// </summary>
public static class ParityForward
{
    /// <summary>Runs the forward of <paramref name="checkpoint"/> on <paramref name="input"/> and writes <paramref name="output"/>.</summary>
    public static ForwardResult Run(string checkpoint, string input, string output)
    {
        checkpoint = Path.GetFullPath(checkpoint);
        input = Path.GetFullPath(input);
        output = Path.GetFullPath(output);
        using var scope = NewDisposeScope();
        using var model = Load(checkpoint);
        var arrays = Npz.Read(input);
        Tensor Get(string name)
        {
            if (!arrays.TryGetValue(name, out var t))
                throw new InteropException("ParityInputInvalid", input, $"array '{name}' is missing (it has {string.Join(", ", arrays.Keys)}; needs text, input_lengths, mel, output_lengths)");
            return t;
        }

        var text = Get("text").to_type(ScalarType.Int64);
        var inputLengths = Get("input_lengths").to_type(ScalarType.Int64);
        var mel = Get("mel").to_type(ScalarType.Float32);
        var outputLengths = Get("output_lengths").to_type(ScalarType.Int64);
        Validate(model.Options, input, text, inputLengths, mel, outputLengths);

        model.eval();
        Tensor encoder;
        Tacotron2Output outputs;
        using (no_grad())
        {
            var children = model.named_children().ToDictionary(c => c.name, c => c.module, StringComparer.Ordinal);
            var embedding = (Embedding)children["embedding"];
            var encoderModule = (Encoder)children["encoder"];
            encoder = encoderModule.call(embedding.call(text).transpose(1, 2), inputLengths);
            outputs = model.Forward(text, inputLengths, mel, outputLengths);
        }

        var written = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["encoder_outputs"] = encoder,
            ["mel_outputs"] = outputs.MelOutputs,
            ["mel_outputs_postnet"] = outputs.MelOutputsPostnet,
            ["gate_outputs"] = outputs.GateOutputs,
            ["alignments"] = outputs.Alignments,
        };
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        Npz.Write(output, written);
        return new ForwardResult(output, checkpoint, (int)text.shape[0], (int)text.shape[1], (int)mel.shape[2],
            written.ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal));
    }

    /// <summary>Our checkpoint or a PyTorch one, as a model with prenet dropout switched off in evaluation.</summary>
    internal static Tacotron2 Load(string checkpoint)
    {
        if (!File.Exists(checkpoint)) throw new InteropException("CheckpointNotFound", checkpoint, "the file does not exist");
        var head = new byte[8];
        using (var fs = File.OpenRead(checkpoint)) fs.ReadAtLeast(head, 8, throwOnEndOfStream: false);
        if (System.Text.Encoding.ASCII.GetString(head) == "TRCKPT01")
        {
            var loaded = CheckpointFile.Read(checkpoint);
            var options = loaded.Meta["model"]?.Deserialize<ModelOptions>(RunJson.Options)
                ?? throw new CheckpointCorruptException(checkpoint, "its metadata has no model dimensions");
            var model = new Tacotron2("tacotron2", options with { PrenetDropoutAlways = false });
            loaded.ApplyTo(model);
            return model;
        }

        using var pt = PyTorchCheckpoint.Read(checkpoint);
        var inferred = ModelShapeInference.Infer(pt.Shapes, checkpoint);
        var net = new Tacotron2("tacotron2", inferred with { PrenetDropoutAlways = false });
        CheckpointImporter.LoadWeights(net, pt, Array.Empty<string>(), checkpoint);
        return net;
    }

    private static void Validate(ModelOptions o, string input, Tensor text, Tensor inputLengths, Tensor mel, Tensor outputLengths)
    {
        InteropException Bad(string why) => new("ParityInputInvalid", input, why);
        string S(Tensor t) => ModelShapeInference.Format(t.shape);
        if (text.dim() != 2) throw Bad($"text must be [B, N], got {S(text)}");
        long b = text.shape[0], n = text.shape[1];
        if (inputLengths.dim() != 1 || inputLengths.shape[0] != b) throw Bad($"input_lengths must be [{b}], got {S(inputLengths)}");
        if (mel.dim() != 3 || mel.shape[0] != b || mel.shape[1] != o.NMelChannels)
            throw Bad($"mel must be [{b}, {o.NMelChannels}, T] (the checkpoint has n_mel_channels = {o.NMelChannels}), got {S(mel)}");
        if (outputLengths.dim() != 1 || outputLengths.shape[0] != b) throw Bad($"output_lengths must be [{b}], got {S(outputLengths)}");
        long t = mel.shape[2];
        if (t == 0 || t % o.NFramesPerStep != 0) throw Bad($"mel has {t} frames: must be a positive multiple of n_frames_per_step ({o.NFramesPerStep})");
        if (inputLengths.min().item<long>() < 1 || inputLengths.max().item<long>() > n) throw Bad($"input_lengths must lie in 1..{n}");
        if (outputLengths.min().item<long>() < 1 || outputLengths.max().item<long>() > t) throw Bad($"output_lengths must lie in 1..{t}");
        if (text.min().item<long>() < 0 || text.max().item<long>() >= o.NSymbols) throw Bad($"text ids must lie in 0..{o.NSymbols - 1}");
    }
}
