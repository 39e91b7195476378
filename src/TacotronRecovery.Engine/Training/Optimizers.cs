using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Training;

/// <summary>
/// TorchSharp's Adam and AdamW with a step that keeps its Scalars alive. TorchSharp 0.107's own step passes each
/// hyper-parameter as a temporary Scalar (<c>exp_avg.mul_(beta1)</c>, <c>add_(eps)</c>, …, six per parameter and step),
/// which the GC may finalize while libtorch reads it (docs/engine.md, "Temporary Scalars"); under a loaded soak
/// (tools/soak) engines died in <c>Adam.step</c>. Same arithmetic in the same order (a test compares the weights after
/// steps, bit for bit); same class, state and state dict, so checkpoints and the PyTorch import are unchanged.
/// </summary>
internal static class Optimizers
{
    /// <summary>Adam (<c>training.optimizer: adam</c>) or AdamW (<c>adamw</c>) over <paramref name="parameters"/>.</summary>
    public static OptimizerHelper Create(string name, IEnumerable<Parameter> parameters, double learningRate, double weightDecay) =>
        name == "adamw"
            ? new ScalarSafe.AdamW(parameters, learningRate, weightDecay)
            : new ScalarSafe.Adam(parameters, learningRate, weightDecay);

    /// <summary>
    /// One parameter's update, <c>Adam.step</c>'s body with kept Scalars: decoupled (AdamW) decays the weight first;
    /// coupled (Adam) adds the decay to the gradient.
    /// </summary>
    internal static void Update(Parameter parameter, ref long step, Tensor expAvg, Tensor expAvgSq, ref Tensor? maxExpAvgSq,
        double beta1, double beta2, double weightDecay, bool amsgrad, bool maximize, double eps, double lr, bool decoupled)
    {
        var grad = parameter.grad;
        if (grad is null) return;
        if (maximize) grad = -grad;
        step++;
        if (decoupled)
        {
            using var decay = (1.0 - lr * weightDecay).ToScalar();
            parameter.mul_(decay);
        }
        double bias1 = 1.0 - Math.Pow(beta1, step);
        double bias2 = 1.0 - Math.Pow(beta2, step);
        if (!decoupled && weightDecay != 0.0)
        {
            using var wd = weightDecay.ToScalar();
            grad = grad.add(parameter, wd);
        }

        using var b1 = beta1.ToScalar();
        using var oneMinusB1 = (1.0 - beta1).ToScalar();
        using var b2 = beta2.ToScalar();
        using var oneMinusB2 = (1.0 - beta2).ToScalar();
        using var sqrtBias2 = Math.Sqrt(bias2).ToScalar();
        using var epsilon = eps.ToScalar();
        using var stepSize = (0.0 - lr / bias1).ToScalar();
        expAvg.mul_(b1).add_(grad, oneMinusB1);
        expAvgSq.mul_(b2).addcmul_(grad, decoupled ? grad : grad.conj(), oneMinusB2);
        Tensor denominator;
        if (amsgrad)
        {
            var old = maxExpAvgSq!;
            maxExpAvgSq = maximum(old, expAvgSq).DetachFromDisposeScope();
            old.Dispose();
            denominator = maxExpAvgSq.sqrt().div(sqrtBias2).add_(epsilon, Model.Scalars.One);
        }
        else
        {
            denominator = expAvgSq.sqrt().div(sqrtBias2).add_(epsilon, Model.Scalars.One);
        }

        parameter.addcdiv_(expAvg, denominator, stepSize);
    }
}

/// <summary>
/// The optimizers themselves. Their type names are TorchSharp's ("Adam", "AdamW") on purpose: TorchSharp writes the
/// optimizer's type name into a saved state and refuses a state saved under another name, so checkpoints written before
/// (and states built by the PyTorch import) load into these and theirs into TorchSharp's.
/// </summary>
internal static class ScalarSafe
{
    /// <summary>Adam whose step keeps its Scalars alive (<see cref="Optimizers"/>).</summary>
    internal sealed class Adam : TorchSharp.Modules.Adam
    {
        public Adam(IEnumerable<Parameter> parameters, double lr, double weightDecay)
            : base(parameters, lr, weight_decay: weightDecay)
        {
        }

        public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
        {
            var o = group.Options;
            foreach (var p in group.Parameters)
            {
                var s = (State)_state[p.Handle];
                Optimizers.Update(p, ref s.step, s.exp_avg, s.exp_avg_sq, ref s.max_exp_avg_sq, o.beta1!.Value, o.beta2!.Value,
                    o.weight_decay!.Value, o.amsgrad!.Value, o.maximize!.Value, o.eps!.Value, o.LearningRate!.Value, decoupled: false);
            }
        }, closure);
    }

    /// <summary>AdamW whose step keeps its Scalars alive (<see cref="Optimizers"/>).</summary>
    internal sealed class AdamW : TorchSharp.Modules.AdamW
    {
        public AdamW(IEnumerable<Parameter> parameters, double lr, double weightDecay)
            : base(parameters, lr, weight_decay: weightDecay)
        {
        }

        public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
        {
            var o = group.Options;
            foreach (var p in group.Parameters)
            {
                var s = (State)_state[p.Handle];
                Optimizers.Update(p, ref s.step, s.exp_avg, s.exp_avg_sq, ref s.max_exp_avg_sq, o.beta1!.Value, o.beta2!.Value,
                    o.weight_decay!.Value, o.amsgrad!.Value, o.maximize!.Value, o.eps!.Value, o.LearningRate!.Value, decoupled: true);
            }
        }, closure);
    }
}
