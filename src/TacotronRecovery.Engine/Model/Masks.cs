using TorchSharp;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Model;

/// <summary>Length masks.</summary>
public static class Masks
{
    /// <summary>[B, maxLength] bool, true where index &lt; length (valid).</summary>
    public static Tensor Valid(Tensor lengths, long maxLength)
    {
        using var range = Range(maxLength, ScalarType.Int64, lengths.device);
        return range.unsqueeze(0).lt(lengths.to_type(ScalarType.Int64).unsqueeze(1));
    }

    /// <summary>
    /// 0, 1, …, count − 1 as <paramref name="dtype"/>: <c>arange(count)</c> without its temporary Scalars
    /// (<see cref="Scalars"/>).
    /// </summary>
    internal static Tensor Range(long count, ScalarType dtype, Device? device = null)
    {
        using var stop = count.ToScalar();
        return arange(Scalars.ZeroInt64, stop, Scalars.OneInt64, dtype: dtype, device: device);
    }
}
