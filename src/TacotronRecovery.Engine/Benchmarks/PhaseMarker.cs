using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace TacotronRecovery.Engine.Benchmarks;

/// <summary>Timestamps written by <see cref="PhaseMarker"/> when backward passes a marked tensor.</summary>
internal sealed class BackwardClock
{
    private readonly long[] _marks;

    public BackwardClock(int slots) => _marks = new long[slots];

    public void Mark(int slot) => _marks[slot] = Stopwatch.GetTimestamp();

    public long this[int slot] => _marks[slot];

    public void Reset() => Array.Clear(_marks);
}

/// <summary>
/// An identity whose backward records when the gradient of its input is complete (all consumers done), so a single
/// backward pass can be split into the parts after and before that tensor without a profiler.
/// </summary>
internal sealed class PhaseMarker : SingleTensorFunction<PhaseMarker>
{
    public override string Name => "PhaseMarker";

    public static Tensor Mark(Tensor x, BackwardClock clock, int slot) => apply(x, clock, slot);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        ctx.save_data("clock", vars[1]);
        ctx.save_data("slot", vars[2]);
        return ((Tensor)vars[0]).clone();
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor gradOutput)
    {
        ((BackwardClock)ctx.get_data("clock")).Mark((int)ctx.get_data("slot"));
        return new List<Tensor> { gradOutput.clone(), null!, null! }; // one entry per argument of apply
    }
}
