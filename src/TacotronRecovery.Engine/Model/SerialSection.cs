using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace TacotronRecovery.Engine.Model;

/// <summary>
/// Runs a recurrent loop on one intra-op thread and restores the thread count after. Per-step tensors are small
/// ([16 × 2048] at the small preset): splitting them across threads costs more in wake-ups than it saves (with two
/// threads the step ran slower than with one, docs/benchmarks.md), while the large products outside the loops keep
/// every thread.
/// </summary>
internal readonly struct SerialSection : IDisposable
{
    private readonly int _previous;

    private SerialSection(int previous) => _previous = previous;

    /// <summary>Sets one intra-op thread until <see cref="Dispose"/>.</summary>
    public static SerialSection Enter()
    {
        var previous = get_num_threads();
        if (previous > 1) set_num_threads(1);
        return new SerialSection(previous);
    }

    public void Dispose()
    {
        if (_previous > 1) set_num_threads(_previous);
    }

    /// <summary>
    /// The same for the backward of a region built by autograd (a library LSTM): call <paramref name="region"/> on the
    /// input and get its output; identity markers around it switch to one thread when the output's gradient arrives and
    /// back when the input's gradient leaves. The forward runs inside a <see cref="SerialSection"/> too.
    /// </summary>
    public static Tensor Around(Tensor input, Func<Tensor, Tensor> region)
    {
        if (!is_grad_enabled() || !input.requires_grad)
        {
            using (Enter())
            {
                return region(input);
            }
        }

        var holder = new Holder();
        var inside = Marker.apply(input, holder, false);
        Tensor output;
        using (Enter())
        {
            output = region(inside);
        }

        return Marker.apply(output, holder, true);
    }

    private sealed class Holder
    {
        public int Previous;
    }

    private sealed class Marker : SingleTensorFunction<Marker>
    {
        public override string Name => "SerialSection";

        public override Tensor forward(AutogradContext ctx, params object[] vars)
        {
            ctx.save_data("holder", vars[1]);
            ctx.save_data("enter", vars[2]);
            return ((Tensor)vars[0]).alias();
        }

        public override List<Tensor> backward(AutogradContext ctx, Tensor gradOutput)
        {
            var holder = (Holder)ctx.get_data("holder");
            if ((bool)ctx.get_data("enter"))
            {
                holder.Previous = get_num_threads();
                if (holder.Previous > 1) set_num_threads(1);
            }
            else if (holder.Previous > 1)
            {
                set_num_threads(holder.Previous);
            }

            return new List<Tensor> { gradOutput, null!, null! };
        }
    }
}
