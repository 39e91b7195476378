using TorchSharp;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Model;

/// <summary>Batch helpers shared by the trainer and the tests.</summary>
public static class Batching
{
    /// <summary>
    /// Gate targets [B, maxFrames] float32: 0 before the decoder step that holds the last valid frame, 1 from that step's
    /// first frame on, padding included. For r = 1 that is the reference's "1 from the last valid frame (index length − 1)
    /// on"; for r &gt; 1 every frame of the last step gets 1, so the one gate logit of a step never has targets that
    /// disagree (with "1 from frame length − 1 on", a step ending on an even length had targets 0 and 1; docs/model.md, Gate).
    /// </summary>
    public static Tensor GateTargets(Tensor melLengths, int maxFrames, int framesPerStep = 1)
    {
        if (framesPerStep < 1) throw new ArgumentOutOfRangeException(nameof(framesPerStep), framesPerStep, "Frames per step must be at least 1.");
        using var r = ((long)framesPerStep).ToScalar();
        using var range = Masks.Range(maxFrames, ScalarType.Int64, melLengths.device);
        using var lastStep = melLengths.to_type(ScalarType.Int64).sub(Scalars.OneInt64).div(r, rounding_mode: RoundingMode.floor);
        using var first = lastStep.mul(r).unsqueeze(1);
        using var ge = range.unsqueeze(0).ge(first);
        return ge.to_type(ScalarType.Float32);
    }

    /// <summary>Index of the first frame whose gate target is 1: the first frame of the decoder step holding frame
    /// <paramref name="frames"/> − 1 (0 for an empty utterance).</summary>
    public static int FirstStopFrame(int frames, int framesPerStep) =>
        frames <= 0 ? 0 : (frames - 1) / framesPerStep * framesPerStep;
}
