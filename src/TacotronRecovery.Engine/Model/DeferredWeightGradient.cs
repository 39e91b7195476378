using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace TacotronRecovery.Engine.Model;

/// <summary>
/// Computes a recurrent weight's gradient once per batch instead of once per decoder step.
/// <para>
/// A step-by-step recurrence uses the same weight W [in, out] at every step: gates_t = x_t · W + b_t. Plain autograd
/// forms dW_t = x_tᵀ · dgates_t at every step and sums them: one memory-bound outer product of the full weight size per
/// step. Here the steps use W.detach() (so autograd forms no per-step weight gradient) and add a zero tensor
/// <see cref="Taps"/>[t] to their biases; the zero tensor is the output of this function of W, so its gradient is exactly
/// dgates for every step, and the function's backward returns dW = Xᵀ · dGates with X the recorded step inputs: one
/// matrix product over all steps. Same mathematics (a sum reordered), far fewer memory passes.
/// </para>
/// </summary>
internal sealed class DeferredWeightGradient
{
    private readonly List<Tensor> _inputs;

    private DeferredWeightGradient(Tensor weight, long steps, long batch)
    {
        _inputs = new List<Tensor>((int)steps);
        Detached = weight.detach();
        Taps = TapFunction.apply(weight, this, steps, batch);
    }

    /// <summary>The weight without gradient history, for the per-step products.</summary>
    public Tensor Detached { get; }

    /// <summary>Zeros [steps, B, out] carrying the weight's gradient; add step t's slice to step t's gates.</summary>
    public Tensor Taps { get; }

    /// <summary>Taps a weight [in, out] for steps × batch rows; null when no gradient is being recorded for it.</summary>
    public static DeferredWeightGradient? Create(Tensor weight, long steps, long batch) =>
        is_grad_enabled() && weight.requires_grad ? new DeferredWeightGradient(weight, steps, batch) : null;

    /// <summary>Records step t's input x_t [B, in] (once per step, in order).</summary>
    public void Record(Tensor input) => _inputs.Add(input.detach());

    private sealed class TapFunction : SingleTensorFunction<TapFunction>
    {
        public override string Name => "DeferredWeightGradient";

        public override Tensor forward(AutogradContext ctx, params object[] vars)
        {
            var weight = (Tensor)vars[0];
            var holder = (DeferredWeightGradient)vars[1];
            var steps = (long)vars[2];
            var batch = (long)vars[3];
            ctx.save_data("holder", holder);
            return zeros(new[] { steps, batch, weight.shape[1] }, dtype: weight.dtype, device: weight.device);
        }

        public override List<Tensor> backward(AutogradContext ctx, Tensor gradOutput)
        {
            var holder = (DeferredWeightGradient)ctx.get_data("holder");
            var inputs = holder._inputs;
            var steps = gradOutput.shape[0];
            if (inputs.Count != steps)
            {
                throw new InvalidOperationException($"DeferredWeightGradient recorded {inputs.Count} step inputs for {steps} steps.");
            }

            using var x = cat(inputs, 0); // [steps·B, in]
            var grad = x.t().mm(gradOutput.reshape(x.shape[0], -1));
            return new List<Tensor> { grad, null!, null!, null! }; // one entry per argument of apply
        }
    }
}
