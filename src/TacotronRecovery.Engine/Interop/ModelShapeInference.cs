using System.Globalization;
using System.Text.RegularExpressions;
using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Engine.Interop;

/// <summary>
/// Infers Tacotron 2 dimensions from the tensor shapes of an NVIDIA-format state dict:
/// <list type="bullet">
/// <item><c>embedding.weight</c> [n_symbols, symbols_embedding_dim]</item>
/// <item><c>encoder.convolutions.{i}.0.conv.weight</c> [E, E, k]: encoder_n_convolutions (count), encoder_kernel_size;
/// <c>encoder.lstm.weight_hh_l0</c> [2E, E/2]: encoder_embedding_dim E</item>
/// <item><c>decoder.prenet.layers.0.linear_layer.weight</c> [prenet_dim, n_mel_channels]</item>
/// <item><c>decoder.attention_rnn.weight_hh</c> [4A, A]: attention_rnn_dim; <c>decoder.decoder_rnn.weight_hh</c> [4D, D]: decoder_rnn_dim</item>
/// <item><c>decoder.attention_layer.query_layer.linear_layer.weight</c> [attention_dim, A];
/// <c>decoder.attention_layer.location_layer.location_conv.conv.weight</c> [filters, 2, kernel]</item>
/// <item><c>postnet.convolutions.{i}.0.conv.weight</c>: count, [channels, n_mel_channels, kernel] for the first</item>
/// <item><c>decoder.linear_projection.linear_layer.weight</c> [n_mel_channels·r, D + E]: n_frames_per_step r</item>
/// </list>
/// Everything not shape-bearing (dropouts, gate threshold, step limit) keeps the <see cref="ModelOptions"/> defaults.
/// </summary>
public static partial class ModelShapeInference
{
    /// <summary>
    /// The dimensions the shapes imply. <paramref name="nSymbols"/> overrides the vocabulary size (for a new symbol set
    /// when <c>embedding.weight</c> is ignored). Throws <see cref="InteropException"/> (CheckpointInvalid) naming the
    /// key when a shape-bearing tensor is missing or has the wrong rank.
    /// </summary>
    public static ModelOptions Infer(IReadOnlyDictionary<string, long[]> shapes, string path, int? nSymbols = null)
    {
        long[] Shape(string key, int rank)
        {
            if (!shapes.TryGetValue(key, out var s))
                throw new InteropException("CheckpointInvalid", path,
                    $"key '{key}' is missing, so the model dimensions cannot be inferred (the file has {shapes.Count} tensors: {Summary(shapes, 8)})");
            if (s.Length != rank)
                throw new InteropException("CheckpointInvalid", path, $"key '{key}' has shape {Format(s)}, expected {rank} dimensions");
            return s;
        }

        int Count(Regex pattern) => shapes.Keys.Select(k => pattern.Match(k)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).DefaultIfEmpty(-1).Max() + 1;

        var embedding = Shape("embedding.weight", 2);
        var encoderConv = Shape("encoder.convolutions.0.0.conv.weight", 3);
        var encoderLstm = Shape("encoder.lstm.weight_hh_l0", 2);
        var prenet = Shape("decoder.prenet.layers.0.linear_layer.weight", 2);
        var attentionRnn = Shape("decoder.attention_rnn.weight_hh", 2);
        var decoderRnn = Shape("decoder.decoder_rnn.weight_hh", 2);
        var query = Shape("decoder.attention_layer.query_layer.linear_layer.weight", 2);
        var location = Shape("decoder.attention_layer.location_layer.location_conv.conv.weight", 3);
        var postnet0 = Shape("postnet.convolutions.0.0.conv.weight", 3);
        var projection = Shape("decoder.linear_projection.linear_layer.weight", 2);

        int mels = checked((int)postnet0[1]);
        if (mels < 1 || projection[0] % mels != 0)
            throw new InteropException("CheckpointInvalid", path,
                $"decoder.linear_projection.linear_layer.weight {Format(projection)} is not a multiple of n_mel_channels = {mels} (from postnet.convolutions.0.0.conv.weight {Format(postnet0)})");

        return Name(new ModelOptions
        {
            NSymbols = nSymbols ?? checked((int)embedding[0]),
            SymbolsEmbeddingDim = checked((int)embedding[1]),
            EncoderEmbeddingDim = checked((int)encoderLstm[1] * 2),
            EncoderNConvolutions = Count(EncoderConvKey()),
            EncoderKernelSize = checked((int)encoderConv[2]),
            PrenetDim = checked((int)prenet[0]),
            AttentionRnnDim = checked((int)attentionRnn[1]),
            DecoderRnnDim = checked((int)decoderRnn[1]),
            AttentionDim = checked((int)query[0]),
            AttentionLocationNFilters = checked((int)location[0]),
            AttentionLocationKernelSize = checked((int)location[2]),
            PostnetEmbeddingDim = checked((int)postnet0[0]),
            PostnetKernelSize = checked((int)postnet0[2]),
            PostnetNConvolutions = Count(PostnetConvKey()),
            NMelChannels = mels,
            NFramesPerStep = checked((int)(projection[0] / mels)),
        });
    }

    /// <summary>Labels the options with the preset whose dimensions they equal, else <c>nvidia</c> (the base the keys override).</summary>
    public static ModelOptions Name(ModelOptions o) => MatchingPreset(o) is { } name
        ? o with { Preset = name, MaxDecoderSteps = ModelOptions.ForPreset(name).MaxDecoderSteps, StallSteps = ModelOptions.ForPreset(name).StallSteps }
        : o with { Preset = "nvidia" };

    /// <summary>The preset whose dimensions <paramref name="o"/> has exactly, or null.</summary>
    public static string? MatchingPreset(ModelOptions o) =>
        ModelOptions.Presets.FirstOrDefault(name => ModelOptions.ForPreset(name) is var p && ShapeKeys(p).SequenceEqual(ShapeKeys(o)));

    /// <summary>One line: <c>symbols 148×512, encoder 512 (3 conv k5), attention rnn 1024 …</c>.</summary>
    public static string Describe(ModelOptions o) => string.Create(CultureInfo.InvariantCulture,
        $"symbols {o.NSymbols}×{o.SymbolsEmbeddingDim}, encoder {o.EncoderEmbeddingDim} ({o.EncoderNConvolutions} conv k{o.EncoderKernelSize}), " +
        $"prenet {o.PrenetDim}, attention rnn {o.AttentionRnnDim}, decoder rnn {o.DecoderRnnDim}, attention {o.AttentionDim} " +
        $"(location {o.AttentionLocationNFilters}×k{o.AttentionLocationKernelSize}), postnet {o.PostnetEmbeddingDim} ({o.PostnetNConvolutions} conv k{o.PostnetKernelSize}), " +
        $"{o.NMelChannels} mels, r {o.NFramesPerStep}");

    /// <summary>
    /// The <c>model:</c> section of a config that builds exactly these dimensions (the matching preset, or nvidia plus
    /// every dimension that differs from it), for training from an imported checkpoint.
    /// </summary>
    public static string ConfigYaml(ModelOptions o)
    {
        var preset = MatchingPreset(o) ?? "nvidia";
        var lines = new List<string> { "model:", $"  preset: {preset}" };
        var baseKeys = ShapeKeys(ModelOptions.ForPreset(preset));
        foreach (var (key, value) in ShapeKeys(o))
            if (baseKeys.First(k => k.Key == key).Value != value) lines.Add(string.Create(CultureInfo.InvariantCulture, $"  {key}: {value}"));
        return string.Join("\n", lines) + "\n";
    }

    private static List<(string Key, int Value)> ShapeKeys(ModelOptions o) => new()
    {
        ("n_symbols", o.NSymbols), ("symbols_embedding_dim", o.SymbolsEmbeddingDim), ("encoder_kernel_size", o.EncoderKernelSize),
        ("encoder_n_convolutions", o.EncoderNConvolutions), ("encoder_embedding_dim", o.EncoderEmbeddingDim),
        ("n_mel_channels", o.NMelChannels), ("n_frames_per_step", o.NFramesPerStep), ("attention_rnn_dim", o.AttentionRnnDim),
        ("decoder_rnn_dim", o.DecoderRnnDim), ("prenet_dim", o.PrenetDim), ("attention_dim", o.AttentionDim),
        ("attention_location_n_filters", o.AttentionLocationNFilters), ("attention_location_kernel_size", o.AttentionLocationKernelSize),
        ("postnet_embedding_dim", o.PostnetEmbeddingDim), ("postnet_kernel_size", o.PostnetKernelSize), ("postnet_n_convolutions", o.PostnetNConvolutions),
    };

    /// <summary>Shape as <c>[a, b, c]</c>.</summary>
    public static string Format(long[] shape) => "[" + string.Join(", ", shape) + "]";

    internal static string Summary(IReadOnlyDictionary<string, long[]> shapes, int max) =>
        string.Join(", ", shapes.Take(max).Select(kv => kv.Key + " " + Format(kv.Value))) + (shapes.Count > max ? ", …" : "");

    [GeneratedRegex(@"^encoder\.convolutions\.(\d+)\.0\.conv\.weight$")]
    private static partial Regex EncoderConvKey();

    [GeneratedRegex(@"^postnet\.convolutions\.(\d+)\.0\.conv\.weight$")]
    private static partial Regex PostnetConvKey();
}
