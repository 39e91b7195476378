using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Interop;

/// <summary>
/// Converts a PyTorch <c>torch.optim.Adam</c> state dict (<c>{state: {i: {step, exp_avg, exp_avg_sq[, max_exp_avg_sq]}},
/// param_groups: [{lr, betas, eps, weight_decay, amsgrad, params}]}</c>) into a TorchSharp Adam over the same
/// parameters. PyTorch numbers parameters in <c>model.parameters()</c> order, which is the reference's registration
/// order and ours; each moment's shape is checked against its parameter, so a different order is refused, never
/// silently mis-assigned. Parameters under ignored layers keep a fresh state.
/// </summary>
internal static class AdamState
{
    public static bool TryApply(object pytorchState, Adam adam, IReadOnlyList<string> parameterNames,
        IReadOnlyDictionary<string, Tensor> stateDict, IReadOnlyList<string> ignoredKeys, out string reason)
    {
        reason = "";
        if (pytorchState is not PyDict sd || sd.Get("state") is not PyDict state || sd.Get("param_groups") is not List<object?> groups || groups.Count == 0)
        {
            reason = "it is not a PyTorch optimizer state dict with 'state' and 'param_groups'";
            return false;
        }
        var group0 = groups[0] as PyDict;
        var indices = groups.OfType<PyDict>().SelectMany(g => g.Get("params") as List<object?> ?? new List<object?>()).Select(x => Convert.ToInt64(x, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        if (indices.Count != parameterNames.Count)
        {
            reason = $"it covers {indices.Count} parameters, the model has {parameterNames.Count}";
            return false;
        }
        if (state.Items.Any(kv => kv.Value is PyDict d && !d.ContainsKey("exp_avg")))
        {
            reason = "its per-parameter state has no exp_avg: it is not an Adam optimizer";
            return false;
        }
        if (group0?.Get("betas") is not object?[] { Length: 2 } betas)
        {
            reason = "its param group has no betas: it is not an Adam optimizer";
            return false;
        }

        var tsd = adam.state_dict();
        if (tsd.State.Count != parameterNames.Count)
        {
            reason = $"the TorchSharp optimizer has {tsd.State.Count} states for {parameterNames.Count} parameters";
            return false;
        }

        // Check everything before changing anything.
        var assignments = new List<(int Index, long Step, Tensor ExpAvg, Tensor ExpAvgSq, Tensor? Max)>();
        for (int i = 0; i < parameterNames.Count; i++)
        {
            var name = parameterNames[i];
            if (ignoredKeys.Contains(name)) continue;
            if (state.Get(indices[i]) is not PyDict s || s.Count == 0) continue; // never stepped: fresh state is exact
            if (s.Get("exp_avg") is not Tensor m || s.Get("exp_avg_sq") is not Tensor v)
            {
                reason = $"parameter {i} ({name}) lacks exp_avg/exp_avg_sq";
                return false;
            }
            var shape = stateDict[name].shape;
            if (!m.shape.SequenceEqual(shape) || !v.shape.SequenceEqual(shape))
            {
                reason = $"parameter {i} ({name}) has moments of shape {ModelShapeInference.Format(m.shape)}, the weight is {ModelShapeInference.Format(shape)}";
                return false;
            }
            long step = s.Get("step") switch
            {
                long l => l,
                double d => (long)d,
                Tensor t => (long)t.to_type(ScalarType.Float64).item<double>(),
                _ => -1,
            };
            if (step < 0)
            {
                reason = $"parameter {i} ({name}) has no step count";
                return false;
            }
            assignments.Add((i, step, m, v, s.Get("max_exp_avg_sq") as Tensor));
        }

        var options = (Adam.Options)tsd.Options[0];
        if (group0!.Get("lr") is { } lr) options.LearningRate = options.InitialLearningRate = Convert.ToDouble(lr, System.Globalization.CultureInfo.InvariantCulture);
        options.beta1 = Convert.ToDouble(betas[0], System.Globalization.CultureInfo.InvariantCulture);
        options.beta2 = Convert.ToDouble(betas[1], System.Globalization.CultureInfo.InvariantCulture);
        if (group0.Get("eps") is { } eps) options.eps = Convert.ToDouble(eps, System.Globalization.CultureInfo.InvariantCulture);
        if (group0.Get("weight_decay") is { } wd) options.weight_decay = Convert.ToDouble(wd, System.Globalization.CultureInfo.InvariantCulture);
        if (group0.Get("amsgrad") is bool ams) options.amsgrad = ams;
        if (group0.Get("maximize") is bool max) options.maximize = max;

        using (no_grad())
        {
            foreach (var (index, step, m, v, maxSq) in assignments)
            {
                var st = (Adam.State)tsd.State[index];
                st.step = step;
                st.exp_avg = Assign(st.exp_avg, m);
                st.exp_avg_sq = Assign(st.exp_avg_sq, v);
                if (maxSq is not null) st.max_exp_avg_sq = Assign(st.max_exp_avg_sq, maxSq);
            }
        }
        return true;
    }

    private static Tensor Assign(Tensor? target, Tensor source)
    {
        var fp32 = source.to_type(ScalarType.Float32);
        if (target is null || target.IsInvalid || !target.shape.SequenceEqual(source.shape)) return fp32.clone().DetachFromDisposeScope();
        target.copy_(fp32);
        return target;
    }
}
