namespace TacotronRecovery.Core.Config;

/// <summary>
/// Tacotron 2 dimensions. Names follow the NVIDIA reference hparams. The defaults are the <c>nvidia</c> preset;
/// <see cref="ForPreset"/> gives <c>small</c> (docs/benchmarks.md) and <c>demo</c> (aligns on 2 CPU cores in minutes).
/// In YAML, <c>model.preset</c> picks the starting point and any other key overrides it.
/// </summary>
public sealed record ModelOptions
{
    /// <summary>Preset the dimensions started from: nvidia, small or demo.</summary>
    public string Preset { get; init; } = "nvidia";
    /// <summary>Symbols in the text vocabulary (148 for the reference English set).</summary>
    public int NSymbols { get; init; } = 148;
    /// <summary>Character embedding size.</summary>
    public int SymbolsEmbeddingDim { get; init; } = 512;
    /// <summary>Encoder convolution kernel size.</summary>
    public int EncoderKernelSize { get; init; } = 5;
    /// <summary>Encoder convolutions.</summary>
    public int EncoderNConvolutions { get; init; } = 3;
    /// <summary>Encoder output size (the BiLSTM has half of it per direction).</summary>
    public int EncoderEmbeddingDim { get; init; } = 512;
    /// <summary>Dropout after each encoder convolution.</summary>
    public double EncoderDropout { get; init; } = 0.5;
    /// <summary>Mel bands (must equal data.n_mel_channels).</summary>
    public int NMelChannels { get; init; } = 80;
    /// <summary>Frames per decoder step (reduction factor r ≥ 1).</summary>
    public int NFramesPerStep { get; init; } = 1;
    /// <summary>Attention LSTMCell size.</summary>
    public int AttentionRnnDim { get; init; } = 1024;
    /// <summary>Decoder LSTMCell size.</summary>
    public int DecoderRnnDim { get; init; } = 1024;
    /// <summary>Prenet layer size.</summary>
    public int PrenetDim { get; init; } = 256;
    /// <summary>Prenet dropout probability.</summary>
    public double PrenetDropout { get; init; } = 0.5;
    /// <summary>Keep prenet dropout on at inference and validation, as the reference does.</summary>
    public bool PrenetDropoutAlways { get; init; } = true;
    /// <summary>Dropout on the attention LSTM output.</summary>
    public double PAttentionDropout { get; init; } = 0.1;
    /// <summary>Dropout on the decoder LSTM output.</summary>
    public double PDecoderDropout { get; init; } = 0.1;
    /// <summary>Attention hidden size.</summary>
    public int AttentionDim { get; init; } = 128;
    /// <summary>Location-sensitive attention: conv filters.</summary>
    public int AttentionLocationNFilters { get; init; } = 32;
    /// <summary>Location-sensitive attention: conv kernel size.</summary>
    public int AttentionLocationKernelSize { get; init; } = 31;
    /// <summary>Postnet channels.</summary>
    public int PostnetEmbeddingDim { get; init; } = 512;
    /// <summary>Postnet kernel size.</summary>
    public int PostnetKernelSize { get; init; } = 5;
    /// <summary>Postnet convolutions.</summary>
    public int PostnetNConvolutions { get; init; } = 5;
    /// <summary>Postnet dropout.</summary>
    public double PostnetDropout { get; init; } = 0.5;
    /// <summary>
    /// Free-running inference: an utterance stops when the gate's probability of "ended", corrected for the
    /// <see cref="TrainedGatePosWeight"/> the gate was trained with, is above this (see <see cref="GateStopLogit"/>).
    /// </summary>
    public double GateThreshold { get; init; } = 0.5;
    /// <summary>
    /// The gate loss's pos_weight (<c>training.gate_pos_weight</c>) these weights were trained with: the engine records it
    /// here (and so in every checkpoint); 1 for NVIDIA checkpoints and older ones. Not a config key.
    /// </summary>
    [NotAConfigKey]
    public double TrainedGatePosWeight { get; init; } = 1.0;

    /// <summary>
    /// The gate logit above which free-running decoding stops: logit(<see cref="GateThreshold"/>) + ln(<see cref="TrainedGatePosWeight"/>).
    /// A gate trained with pos_weight w learns the logit of w·p/(1 − p + w·p), so its raw sigmoid crosses 0.5 where the
    /// true end probability p is only 1/(1 + w) (1/6 for w = 5): it stops early. Adding ln w undoes that bias; with
    /// w = 1 this is the reference's sigmoid(gate) &gt; threshold.
    /// </summary>
    public double GateStopLogit() => Math.Log(GateThreshold / (1 - GateThreshold)) + Math.Log(TrainedGatePosWeight);
    /// <summary>Free-running inference: decoder step limit (reported when hit).</summary>
    public int MaxDecoderSteps { get; init; } = 1000;
    /// <summary>
    /// Free-running inference: an utterance of N tokens gets at most ⌈this·N / r⌉ decoder steps (within
    /// <see cref="MaxDecoderSteps"/>); 0 turns the text-relative limit off. 10 (ESPnet's maxlenratio) is about twice the
    /// frames per character of ordinary English speech (the demo corpus: 2.9–5.4, median 3.9).
    /// </summary>
    public double MaxFramesPerToken { get; init; } = 10;
    /// <summary>
    /// Free-running inference: decoder steps the attention may rest at the last two tokens before the stall detector
    /// ends the utterance (TacotronRecovery.Core.Health.AttentionStall); 0 turns it off.
    /// </summary>
    public int StallSteps { get; init; } = 40;
    /// <summary>
    /// Train the gate on a detached input (Mozilla/Coqui TTS's <c>separate_stopnet</c>): the gate loss trains the gate layer
    /// only and sends no gradient into the decoder and attention, so a heavily weighted gate cannot slow the alignment.
    /// </summary>
    public bool SeparateGate { get; init; }

    /// <summary>The named preset: nvidia (reference, 28.2 M parameters), small (benchmark protocol) or demo.</summary>
    public static ModelOptions ForPreset(string name) => name.ToLowerInvariant() switch
    {
        "nvidia" => new ModelOptions(),
        "small" => new ModelOptions
        {
            Preset = "small", SymbolsEmbeddingDim = 256, EncoderEmbeddingDim = 256, AttentionRnnDim = 512,
            DecoderRnnDim = 512, PrenetDim = 128, PostnetEmbeddingDim = 256,
        },
        "demo" => new ModelOptions
        {
            Preset = "demo", SymbolsEmbeddingDim = 128, EncoderEmbeddingDim = 128, EncoderNConvolutions = 2,
            AttentionRnnDim = 256, DecoderRnnDim = 256, PrenetDim = 128, AttentionDim = 64,
            AttentionLocationNFilters = 16, AttentionLocationKernelSize = 15, PostnetEmbeddingDim = 128,
            PostnetNConvolutions = 3, NFramesPerStep = 2, MaxDecoderSteps = 400, StallSteps = 20,
        },
        _ => throw new ArgumentException($"Unknown model preset '{name}': expected nvidia, small or demo.", nameof(name)),
    };

    /// <summary>Names of the presets.</summary>
    public static IReadOnlyList<string> Presets { get; } = new[] { "nvidia", "small", "demo" };
}
