using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace TacotronRecovery.Engine.Model;

/// <summary>
/// The gradient-adaptive factor of MMI training: keeps the recogniser's gradient from dominating the decoder's. The
/// decoder LSTM's output is split into two identical branches, one for the Tacotron (mel, postnet, gate) and one for
/// the recogniser. In the backward pass both gradients meet here; the recogniser's (already multiplied by
/// <c>training.mmi_weight</c>) is scaled by f = min(1, max|g_tacotron| / max|g_mmi|) before the two are added, so its
/// largest element never exceeds the Tacotron loss's. The reference implementation (bfs18/tacotron2) compares the
/// max-abs gradients of the two losses over all parameters with two extra backward passes every few steps; measuring
/// them where the two losses meet costs nothing extra and is exact at every step. The recogniser's own parameters
/// receive its unscaled gradient. One instance per step: <see cref="Factor"/> is the factor its backward applied.
/// </summary>
public sealed class GradientAdaptiveFactor
{
    /// <summary>The factor applied by the last backward pass through <see cref="Split"/>; null before one ran.</summary>
    public double? Factor { get; private set; }

    /// <summary>Two branches of <paramref name="x"/>: (for the Tacotron, for the recogniser). Identity forward.</summary>
    public (Tensor Tacotron, Tensor Recognizer) Split(Tensor x)
    {
        if (!is_grad_enabled() || !x.requires_grad) return (x, x);
        var outputs = Junction.apply(x, this);
        return (outputs[0], outputs[1]);
    }

    /// <summary>min(1, max|main| / max|aux|): 1 when aux is zero or not larger than main.</summary>
    public static double Compute(Tensor main, Tensor aux)
    {
        using var scope = NewDisposeScope();
        double mainMax = main.abs().max().item<float>();
        double auxMax = aux.abs().max().item<float>();
        if (!double.IsFinite(mainMax) || !double.IsFinite(auxMax)) return double.NaN;
        return auxMax > mainMax ? mainMax / auxMax : 1.0;
    }

    private static bool Defined(Tensor? t) => t is not null && t.Handle != IntPtr.Zero;

    private sealed class Junction : MultiTensorFunction<Junction>
    {
        public override string Name => "GradientAdaptiveFactor";

        public override List<Tensor> forward(AutogradContext ctx, params object[] vars)
        {
            ctx.save_data("owner", vars[1]);
            var x = (Tensor)vars[0];
            return new List<Tensor> { x.alias(), x.alias() };
        }

        public override List<Tensor> backward(AutogradContext ctx, List<Tensor> grads)
        {
            var owner = (GradientAdaptiveFactor)ctx.get_data("owner");
            Tensor main = grads[0], aux = grads[1];
            if (!Defined(aux)) return new List<Tensor> { main, null! };
            if (!Defined(main))
            {
                owner.Factor = 0;
                return new List<Tensor> { zeros_like(aux), null! };
            }

            var factor = Compute(main, aux);
            owner.Factor = factor;
            // A non-finite gradient passes through unscaled: the trainer's guard sees it and skips the step.
            if (double.IsNaN(factor)) return new List<Tensor> { main.add(aux, Scalars.One), null! };
            using var f = factor.ToScalar();
            return new List<Tensor> { main.add(aux, f), null! };
        }
    }
}
