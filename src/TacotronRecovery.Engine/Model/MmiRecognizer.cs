using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TacotronRecovery.Engine.Model;

/// <summary>
/// The CTC recogniser of "Maximizing Mutual Information for Tacotron" (Liu et al., 2019): a deliberately weak
/// classifier (LinearNorm + ReLU + dropout 0.5, then LinearNorm to the symbols and a blank) over the decoder LSTM's
/// outputs, predicting the input symbols with CTC. A weak recogniser can only succeed when the decoder's own
/// representation carries the text, which is what pushes the decoder to attend to it. Keys: <c>proj.linear_layer.*</c>,
/// <c>ctc_proj.linear_layer.*</c>. It is not part of <see cref="Tacotron2"/>: a checkpoint keeps it in its own
/// section, so exports, imports and synthesis never see it.
/// </summary>
public sealed class MmiRecognizer : nn.Module
{
    private const double Dropout = 0.5;
    private readonly LinearNorm proj;
    private readonly LinearNorm ctc_proj;

    /// <param name="name">Module name.</param>
    /// <param name="decoderDim">Width of the decoder LSTM output (<c>model.decoder_rnn_dim</c>).</param>
    /// <param name="symbols">Number of input symbols (<c>model.n_symbols</c>); the blank is the extra class <paramref name="symbols"/>.</param>
    public MmiRecognizer(string name, long decoderDim, long symbols) : base(name)
    {
        if (decoderDim < 1) throw new ArgumentOutOfRangeException(nameof(decoderDim), decoderDim, "The decoder width must be at least 1.");
        if (symbols < 1) throw new ArgumentOutOfRangeException(nameof(symbols), symbols, "There must be at least one symbol.");
        Blank = symbols;
        proj = new LinearNorm("proj", decoderDim, decoderDim, gain: InitGain.Relu);
        ctc_proj = new LinearNorm("ctc_proj", decoderDim, symbols + 1);
        RegisterComponents();
    }

    /// <summary>The blank class: one past the last symbol id.</summary>
    public long Blank { get; }

    /// <summary>Log-probabilities [T, B, symbols + 1] (CTC's time-major layout) of decoder outputs [B, T, H].</summary>
    public Tensor LogProbabilities(Tensor decoderOutputs)
    {
        var hidden = F.dropout(F.relu(proj.call(decoderOutputs)), Dropout, training);
        return ctc_proj.call(hidden).log_softmax(2).transpose(0, 1);
    }

    /// <summary>
    /// The MMI loss: CTC of the text given the decoder outputs, per utterance divided by its decoder steps (the Tacotron
    /// losses are means over frames too), then the batch mean. decoderOutputs [B, T, H]; text [B, N] int64 padded;
    /// steps [B] valid decoder steps; textLengths [B]. An utterance too short for its text contributes 0 (CTC's
    /// zero_infinity) instead of an infinite loss.
    /// </summary>
    public Tensor Loss(Tensor decoderOutputs, Tensor text, Tensor steps, Tensor textLengths)
    {
        var logProbs = LogProbabilities(decoderOutputs);
        var perUtterance = F.ctc_loss(logProbs, text, steps, textLengths, blank: Blank, zero_infinity: true, reduction: nn.Reduction.None);
        return perUtterance.div(steps.to_type(perUtterance.dtype)).mean();
    }
}
