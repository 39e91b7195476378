using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TacotronRecovery.Engine.Model;

/// <summary>
/// Loss components (scalar tensors). GuidedAttention and Mmi are unweighted; Total includes their weights. Mmi is null
/// when MMI is off.
/// </summary>
public sealed record LossComponents(Tensor Mel, Tensor MelPostnet, Tensor Gate, Tensor GuidedAttention, Tensor Total, Tensor? Mmi = null);

/// <summary>
/// Tacotron 2 losses on valid cells only (padding never contributes a value or a gradient):
/// Mel and MelPostnet = MSE over valid frames × mel bands; Gate = BCE with logits (positive weight) over valid decoder
/// steps (one logit per step; targets from <see cref="Batching.GateTargets"/>);
/// GuidedAttention = mean over valid (decoder step, token) cells of A[t,n]·W[t,n], W = 1 − exp(−(n/N − t/T)²/2σ²),
/// N the utterance's text length and T its decoder steps ⌈frames / r⌉.
/// Total = Mel + MelPostnet + Gate + weight · GuidedAttention.
/// </summary>
public sealed class Tacotron2Loss
{
    private readonly double _posWeight;
    private readonly double _sigma;

    public Tacotron2Loss(double gatePosWeight, double guidedAttentionSigma)
    {
        if (!(gatePosWeight > 0) || double.IsInfinity(gatePosWeight))
        {
            throw new ArgumentOutOfRangeException(nameof(gatePosWeight), gatePosWeight, "The gate positive weight must be positive and finite.");
        }

        if (!(guidedAttentionSigma > 0) || double.IsInfinity(guidedAttentionSigma))
        {
            throw new ArgumentOutOfRangeException(nameof(guidedAttentionSigma), guidedAttentionSigma, "guided_attention.sigma must be positive and finite.");
        }

        _posWeight = gatePosWeight;
        _sigma = guidedAttentionSigma;
    }

    public LossComponents Compute(Tacotron2Output output, Tensor melTargets, Tensor gateTargets, Tensor melLengths,
        Tensor textLengths, double guidedAttentionWeight, int framesPerStep)
    {
        if (framesPerStep < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(framesPerStep), framesPerStep, "Frames per step must be at least 1.");
        }

        var nMels = melTargets.shape[1];
        var frames = melTargets.shape[2];
        var padFrames = Masks.Valid(melLengths, frames).logical_not(); // [B, T]
        var validFrames = melLengths.sum().to_type(ScalarType.Float32);
        var padCells = padFrames.unsqueeze(1);
        using var nMelsScalar = nMels.ToScalar();
        var melCount = validFrames.mul(nMelsScalar);

        var mel = output.MelOutputs.sub(melTargets).pow(Scalars.Two).masked_fill(padCells, Scalars.Zero).sum().div(melCount);
        var post = output.MelOutputsPostnet.sub(melTargets).pow(Scalars.Two).masked_fill(padCells, Scalars.Zero).sum().div(melCount);

        // The gate has one logit per decoder step (GateOutputs repeats it over the step's r frames): the loss is taken per
        // step, on the step's first frame, whose target is the step's (Batching.GateTargets), over valid steps ⌈frames / r⌉.
        var stepLogits = framesPerStep == 1 ? output.GateOutputs : output.GateOutputs.slice(1, 0, frames, framesPerStep);
        var stepTargets = framesPerStep == 1 ? gateTargets : gateTargets.slice(1, 0, frames, framesPerStep);
        using var rMinus1 = ((long)framesPerStep - 1).ToScalar();
        using var r = ((long)framesPerStep).ToScalar();
        var steps = framesPerStep == 1 ? melLengths : melLengths.to_type(ScalarType.Int64).add(rMinus1, Scalars.OneInt64).div(r, rounding_mode: RoundingMode.floor);
        var padSteps = Masks.Valid(steps, stepLogits.shape[1]).logical_not();
        using var posWeight = tensor(new[] { (float)_posWeight });
        var bce = F.binary_cross_entropy_with_logits(stepLogits, stepTargets, reduction: nn.Reduction.None,
            pos_weights: posWeight);
        var gate = bce.masked_fill(padSteps, Scalars.Zero).sum().div(steps.sum().to_type(ScalarType.Float32));

        var guided = GuidedAttention(output.Alignments, melLengths, textLengths, framesPerStep);
        using var gaWeight = guidedAttentionWeight.ToScalar();
        var total = mel.add(post, Scalars.One).add(gate, Scalars.One).add(guided.mul(gaWeight), Scalars.One);
        return new LossComponents(mel, post, gate, guided, total);
    }

    /// <summary>
    /// The components with the MMI loss added: Total + weight · mmi (the recogniser's gradient into the decoder is then
    /// limited by the <see cref="GradientAdaptiveFactor"/> the forward ran with).
    /// </summary>
    public static LossComponents WithMmi(LossComponents losses, Tensor mmi, double weight)
    {
        if (!(weight > 0) || double.IsInfinity(weight))
        {
            throw new ArgumentOutOfRangeException(nameof(weight), weight, "training.mmi_weight must be positive and finite.");
        }

        using var w = weight.ToScalar();
        return losses with { Mmi = mmi, Total = losses.Total.add(mmi, w) };
    }

    /// <summary>Mean of A·W over valid cells; alignments [B, Tdec, N].</summary>
    public Tensor GuidedAttention(Tensor alignments, Tensor melLengths, Tensor textLengths, int framesPerStep)
    {
        long tDec = alignments.shape[1], n = alignments.shape[2];
        using var r = framesPerStep.ToScalar();
        using var rMinusOne = (framesPerStep - 1).ToScalar();
        var steps = melLengths.to_type(ScalarType.Int64).add(rMinusOne, Scalars.OneInt64).div(r, rounding_mode: RoundingMode.floor);
        var tokens = textLengths.to_type(ScalarType.Int64);
        var validSteps = Masks.Valid(steps, tDec).unsqueeze(2); // [B, Tdec, 1]
        var validTokens = Masks.Valid(tokens, n).unsqueeze(1); // [B, 1, N]
        var cells = validSteps.logical_and(validTokens);
        var t = Masks.Range(tDec, ScalarType.Float32).view(1, -1, 1).div(steps.to_type(ScalarType.Float32).view(-1, 1, 1));
        var x = Masks.Range(n, ScalarType.Float32).view(1, 1, -1).div(tokens.to_type(ScalarType.Float32).view(-1, 1, 1));
        using var divisor = (-2 * _sigma * _sigma).ToScalar();
        var w = x.sub(t).pow(Scalars.Two).div(divisor).exp().neg().add(Scalars.One, Scalars.One); // [B, Tdec, N]
        var count = cells.sum().to_type(ScalarType.Float32);
        return alignments.mul(w).masked_fill(cells.logical_not(), Scalars.Zero).sum().div(count);
    }
}
