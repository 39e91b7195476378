using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Model;

/// <summary>Batch helpers shared by the trainer and the tests.</summary>
public static class Batching
{
    /// <summary>
    /// Gate targets [B, maxFrames] float32: 0 before the last valid frame, 1 from the last valid frame
    /// (index length − 1) on, padding included (docs/benchmarks.md).
    /// </summary>
    public static Tensor GateTargets(Tensor melLengths, int maxFrames)
    {
        using var range = Masks.Range(maxFrames, ScalarType.Int64, melLengths.device);
        using var last = melLengths.to_type(ScalarType.Int64).sub(Scalars.OneInt64).unsqueeze(1);
        using var ge = range.unsqueeze(0).ge(last);
        return ge.to_type(ScalarType.Float32);
    }
}
