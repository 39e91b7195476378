using TorchSharp;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Model;

/// <summary>
/// Frame dropout of MMI training: each valid teacher-forced input frame is replaced, with probability
/// <c>rate</c>, by the dataset's mean mel, so the decoder cannot lean on the previous frame alone and must use the
/// text through the attention. Only the decoder's inputs change; the targets the losses compare with stay intact.
/// Padding frames are left as they are (they never reach a valid output).
/// </summary>
public static class FrameDropout
{
    /// <summary>
    /// mels [B, nMels, T]; meanMel [nMels]; melLengths [B]. rate 0 returns <paramref name="mels"/> itself (no random draw).
    /// </summary>
    public static Tensor Apply(Tensor mels, Tensor meanMel, Tensor melLengths, double rate)
    {
        if (!(rate >= 0 && rate <= 1)) throw new ArgumentOutOfRangeException(nameof(rate), rate, "The frame dropout rate must be in [0, 1].");
        if (meanMel.dim() != 1 || meanMel.shape[0] != mels.shape[1])
            throw new ArgumentException($"meanMel must be [{mels.shape[1]}], got [{string.Join(", ", meanMel.shape)}].", nameof(meanMel));
        if (rate == 0) return mels;
        long b = mels.shape[0], t = mels.shape[2];
        var valid = Masks.Valid(melLengths, t); // [B, T]
        Tensor drop = valid;
        if (rate < 1)
        {
            using var threshold = rate.ToScalar();
            drop = rand(new[] { b, t }, dtype: ScalarType.Float32, device: mels.device).lt(threshold).logical_and(valid);
        }

        return where(drop.unsqueeze(1), meanMel.to(mels.dtype).view(1, -1, 1), mels);
    }
}
