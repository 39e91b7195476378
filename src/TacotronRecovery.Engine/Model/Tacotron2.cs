using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Health;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Model;

/// <summary>
/// Teacher-forced outputs. MelOutputs and MelOutputsPostnet [B, nMels, T] (zero beyond each mel length); GateOutputs
/// [B, T] logits, one per frame: each decoder step's single logit repeated over its r frames (1e3 beyond each length,
/// as the reference's mask_padding); Alignments [B, T/r, N]. DecoderOutputs [B, T/r, decoder_rnn_dim]: the decoder
/// LSTM's outputs for the MMI recogniser, only when the forward was given a <see cref="GradientAdaptiveFactor"/>.
/// </summary>
public sealed record Tacotron2Output(Tensor MelOutputs, Tensor MelOutputsPostnet, Tensor GateOutputs, Tensor Alignments,
    Tensor? DecoderOutputs = null);

/// <summary>
/// Free-running outputs for T = (decoder steps run)·r frames: mels [B, nMels, T] zero beyond each length, gate logits
/// [B, T] (per step, repeated over r frames), alignments [B, steps, N]; Lengths in frames (the step whose gate fired,
/// included, times r; for a stall the estimated end, see <see cref="AttentionStall"/>); StoppedBy says what ended each
/// utterance; HitMaxSteps is true where neither the gate nor the stall detector ended it within its step limit
/// (length = limit·r).
/// </summary>
public sealed record Tacotron2Inference(Tensor MelOutputs, Tensor MelOutputsPostnet, Tensor GateOutputs, Tensor Alignments,
    int[] Lengths, StopReason[] StoppedBy)
{
    /// <summary>Per utterance: ended by the decoder step limit (<see cref="StopReason.StepLimit"/>).</summary>
    public bool[] HitMaxSteps { get; } = StoppedBy.Select(s => s == StopReason.StepLimit).ToArray();
}

/// <summary>
/// Tacotron 2 (the NVIDIA reference architecture) with its state-dict keys: <c>embedding.weight</c>, <c>encoder.*</c>,
/// <c>decoder.*</c>, <c>postnet.*</c>. See docs/model.md.
/// </summary>
public sealed class Tacotron2 : nn.Module
{
    private readonly Embedding embedding;
    private readonly Encoder encoder;
    private readonly Decoder decoder;
    private readonly Postnet postnet;

    public Tacotron2(string name, ModelOptions options) : base(name)
    {
        Validate(options);
        Options = options;
        embedding = nn.Embedding(options.NSymbols, options.SymbolsEmbeddingDim);
        var std = Math.Sqrt(2.0 / (options.NSymbols + options.SymbolsEmbeddingDim));
        var val = Math.Sqrt(3.0) * std;
        using (no_grad())
        {
            nn.init.uniform_(embedding.weight!, -val, val);
        }

        encoder = new Encoder("encoder", options);
        decoder = new Decoder("decoder", options);
        postnet = new Postnet("postnet", options);
        RegisterComponents();
    }

    public ModelOptions Options { get; }

    /// <summary>
    /// Teacher-forced forward. text [B, N] int64; textLengths, melLengths [B] int64; mels [B, nMels, T] with T a multiple
    /// of r (the caller pads). Values beyond the lengths never influence any valid output. mels are the decoder's
    /// teacher-forced inputs only (MMI's frame dropout changes them; the losses compare with the intact targets). With
    /// <paramref name="mmi"/> the output also carries the decoder outputs for the MMI recogniser.
    /// </summary>
    public Tacotron2Output Forward(Tensor text, Tensor textLengths, Tensor mels, Tensor melLengths, GradientAdaptiveFactor? mmi = null) =>
        Run(text, textLengths, mels, melLengths, plain: false, mmi);

    /// <summary>The same forward through the plain step-by-step decoder (for equality tests of the fast path).</summary>
    internal Tacotron2Output ForwardPlain(Tensor text, Tensor textLengths, Tensor mels, Tensor melLengths) =>
        Run(text, textLengths, mels, melLengths, plain: true);

    /// <summary>
    /// Free-running synthesis under no_grad in evaluation mode (the previous mode is restored). Batches are allowed; each
    /// utterance ends at the first step whose gate logit is above <see cref="ModelOptions.GateStopLogit"/> (Gate), when its
    /// attention rests at its last tokens for <see cref="ModelOptions.StallSteps"/> steps (Stall), or at its step limit
    /// (StepLimit): <see cref="StepLimit"/> of maxDecoderSteps (default <see cref="ModelOptions.MaxDecoderSteps"/>) and its
    /// token count.
    /// </summary>
    public Tacotron2Inference Infer(Tensor text, Tensor textLengths, int? maxDecoderSteps = null)
    {
        var maxSteps = maxDecoderSteps ?? Options.MaxDecoderSteps;
        if (maxSteps < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxDecoderSteps), maxSteps, "The decoder step limit must be at least 1.");
        }

        var wasTraining = training;
        eval();
        try
        {
            using var _ = no_grad();
            var memory = Encode(text, textLengths);
            var tokens = textLengths.cpu().to_type(ScalarType.Int64).data<long>().ToArray();
            var limits = tokens.Select(n => StepLimit(Options, (int)n, maxSteps)).ToArray();
            var (mel, gateSteps, alignments, lengths, stoppedBy) = decoder.Infer(memory, textLengths, limits, Options.StallSteps);
            var lengthTensor = tensor(lengths.Select(l => (long)l).ToArray(), dtype: ScalarType.Int64, device: mel.device);
            var (melMasked, post, gate) = Finish(mel, gateSteps, lengthTensor);
            return new Tacotron2Inference(melMasked, post, gate, alignments, lengths, stoppedBy);
        }
        finally
        {
            train(wasTraining);
        }
    }

    /// <summary>
    /// The decoder step limit of one utterance of <paramref name="tokens"/> tokens: <paramref name="maxDecoderSteps"/>, and
    /// at most ⌈<see cref="ModelOptions.MaxFramesPerToken"/>·tokens / r⌉ steps when that option is above 0 (a babbling
    /// model then stops after a few times the sentence's natural length instead of the global limit).
    /// </summary>
    public static int StepLimit(ModelOptions options, int tokens, int maxDecoderSteps)
    {
        if (options.MaxFramesPerToken <= 0) return maxDecoderSteps;
        var relative = (int)Math.Ceiling(options.MaxFramesPerToken * Math.Max(1, tokens) / options.NFramesPerStep);
        return Math.Clamp(relative, 1, maxDecoderSteps);
    }

    /// <summary>
    /// Re-initialise attention_rnn and attention_layer as a fresh model would, from the given seed. The global torch
    /// RNG state is saved and restored, so the training's random stream is not disturbed.
    /// </summary>
    public void ReinitializeAttention(int seed)
    {
        SeededRandom.Run(seed, decoder.ReinitializeAttention);
    }

    /// <summary>Number of trainable parameter elements (buffers excluded).</summary>
    public long ParameterCount() => parameters().Sum(p => p.numel());

    private Tacotron2Output Run(Tensor text, Tensor textLengths, Tensor mels, Tensor melLengths, bool plain, GradientAdaptiveFactor? mmi = null)
    {
        var memory = Encode(text, textLengths);
        Tensor mel, gateSteps, alignments;
        Tensor? decoderOutputs = null;
        if (plain) (mel, gateSteps, alignments) = decoder.ForwardPlain(memory, mels, textLengths);
        else (mel, gateSteps, alignments, decoderOutputs) = decoder.Forward(memory, mels, textLengths, mmi);
        var (melMasked, post, gate) = Finish(mel, gateSteps, melLengths);
        return new Tacotron2Output(melMasked, post, gate, alignments, decoderOutputs);
    }

    private Tensor Encode(Tensor text, Tensor textLengths)
    {
        if (text.dim() != 2 || textLengths.dim() != 1 || textLengths.shape[0] != text.shape[0])
        {
            throw new ArgumentException(
                $"text must be [B, N] and textLengths [B]; got [{string.Join(", ", text.shape)}] and [{string.Join(", ", textLengths.shape)}].");
        }

        return encoder.call(embedding.call(text).transpose(1, 2), textLengths);
    }

    /// <summary>Masks the decoder mels, adds the postnet residual and expands the per-step gate to frames.</summary>
    private (Tensor Mel, Tensor Post, Tensor Gate) Finish(Tensor mel, Tensor gateSteps, Tensor melLengths)
    {
        var valid = Masks.Valid(melLengths, mel.shape[2]); // [B, T]
        var frameMask = valid.unsqueeze(1).to_type(mel.dtype); // [B, 1, T]
        var melMasked = mel.mul(frameMask);
        var post = melMasked.add(postnet.call(melMasked, frameMask), Scalars.One).mul(frameMask);
        var r = Options.NFramesPerStep;
        var gate = (r == 1 ? gateSteps : gateSteps.repeat_interleave(r, 1)).masked_fill(valid.logical_not(), Scalars.GatePadLogit);
        return (melMasked, post, gate);
    }

    private static void Validate(ModelOptions o)
    {
        void Positive(int value, string key)
        {
            if (value < 1)
            {
                throw new ArgumentException($"model.{key} must be at least 1, got {value}.");
            }
        }

        Positive(o.NSymbols, "n_symbols");
        Positive(o.SymbolsEmbeddingDim, "symbols_embedding_dim");
        Positive(o.EncoderEmbeddingDim, "encoder_embedding_dim");
        Positive(o.EncoderNConvolutions, "encoder_n_convolutions");
        Positive(o.NMelChannels, "n_mel_channels");
        Positive(o.NFramesPerStep, "n_frames_per_step");
        Positive(o.AttentionRnnDim, "attention_rnn_dim");
        Positive(o.DecoderRnnDim, "decoder_rnn_dim");
        Positive(o.PrenetDim, "prenet_dim");
        Positive(o.AttentionDim, "attention_dim");
        Positive(o.AttentionLocationNFilters, "attention_location_n_filters");
        Positive(o.PostnetEmbeddingDim, "postnet_embedding_dim");
        Positive(o.MaxDecoderSteps, "max_decoder_steps");
        if (o.EncoderEmbeddingDim % 2 != 0)
        {
            throw new ArgumentException($"model.encoder_embedding_dim must be even (BiLSTM halves), got {o.EncoderEmbeddingDim}.");
        }
    }
}
