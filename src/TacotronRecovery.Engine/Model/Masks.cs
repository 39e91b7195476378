using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Model;

/// <summary>Length masks.</summary>
public static class Masks
{
    /// <summary>[B, maxLength] bool, true where index &lt; length (valid).</summary>
    public static Tensor Valid(Tensor lengths, long maxLength)
    {
        using var range = arange(maxLength, dtype: ScalarType.Int64, device: lengths.device);
        return range.unsqueeze(0).lt(lengths.to_type(ScalarType.Int64).unsqueeze(1));
    }
}
