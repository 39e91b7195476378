using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;
using F = TorchSharp.torch.nn.functional;

namespace TacotronRecovery.Engine.Model;

/// <summary>
/// LSTM cell arithmetic in PyTorch's gate order (input, forget, cell, output), forward and backward, on plain tensors
/// (no autograd), and the gradient of a weight shared by all steps: the shared core of <see cref="AttentionRecurrence"/>
/// and <see cref="LstmRecurrence"/>.
/// </summary>
internal static class LstmCell
{
    /// <summary>
    /// What backward needs from one step: the factors that turn [dc, dc, dc, dh] into dL/dgates
    /// ([g·σ'(i), c_{t−1}·σ'(f), i·tanh'(g), tanh(c_t)·σ'(o)]), o·tanh'(c_t) (dh → dc) and f (dc → dc_{t−1}).
    /// </summary>
    public readonly record struct Saved(Tensor GateFactors, Tensor CellFactor, Tensor Forget);

    /// <summary>gates [B, 4H] (overwritten) and c [B, H] → h, c' and, when keep, what <see cref="Backward"/> needs.</summary>
    public static (Tensor H, Tensor C, Saved? Saved) Forward(Tensor gates, Tensor c, bool keep)
    {
        var g = gates.chunk(4, 1);
        var i = g[0].sigmoid();
        var f = g[1].sigmoid();
        var cand = g[2].tanh();
        var o = g[3].sigmoid();
        var c2 = f.mul(c).addcmul_(i, cand, Scalars.One);
        var tanhC = c2.tanh();
        var h = o.mul(tanhC);
        if (!keep) return (h, c2, null);

        // Derivatives of the activations, written over the pre-activation gates: σ' = s(1 − s), tanh' = 1 − t².
        g[0].copy_(i).mul_(i.neg().add_(Scalars.One, Scalars.One)).mul_(cand);
        g[1].copy_(f).mul_(f.neg().add_(Scalars.One, Scalars.One)).mul_(c);
        g[2].copy_(cand).mul_(cand).neg_().add_(Scalars.One, Scalars.One).mul_(i);
        g[3].copy_(o).mul_(o.neg().add_(Scalars.One, Scalars.One)).mul_(tanhC);
        var cellFactor = tanhC.pow(Scalars.Two).neg_().add_(Scalars.One, Scalars.One).mul_(o);
        return (h, c2, new Saved(gates, cellFactor, f));
    }

    /// <summary>dL/dh_t and dL/dc_t from later steps → dL/dgates (pre-activation) [B, 4H] and dL/dc_{t−1}.</summary>
    public static (Tensor DGates, Tensor DcPrevious) Backward(Saved s, Tensor dh, Tensor? dcNext)
    {
        var dc = dh.mul(s.CellFactor);
        if (dcNext is not null) dc.add_(dcNext, Scalars.One);
        var dGates = cat(new[] { dc, dc, dc, dh }, 1).mul_(s.GateFactors);
        return (dGates, dc.mul_(s.Forget));
    }

    /// <summary>
    /// The gradient of a weight used at every step, Σ_t dOutput_tᵀ · input_t, as one product: dOutputs [T, B, out],
    /// inputs one [B, in] per step in order. Returns [out, in].
    /// </summary>
    public static Tensor WeightGradient(Tensor dOutputs, IEnumerable<Tensor> inputs) =>
        dOutputs.reshape(-1, dOutputs.shape[^1]).t().mm(cat(inputs.ToArray(), 0));
}

/// <summary>
/// The decoder LSTM's recurrence over teacher-forced steps as one autograd function: h_t = LSTM(inputGates_t + h_{t−1}·W_hhᵀ),
/// dropout on h_t (masks given). Its input projection and biases are in inputGates (one matrix product for all steps,
/// outside). Forward keeps what backward needs; backward runs the steps in reverse by hand and forms W_hh's gradient in
/// one matrix product. The products use contiguous copies of W_hh in both orientations, so that MKL sees no transposed
/// operand (a per-step product ran 1.5× slower with a transposed weight, docs/benchmarks.md) — except the forward one on
/// MKL's AVX2 branch, which is faster with the transposed view (<see cref="Runtime.MklDispatch.Avx2Branch"/>).
/// </summary>
internal sealed class LstmRecurrence
{
    private readonly Tensor _weight; // W_hh [4H, H], contiguous
    private readonly Tensor _weightT; // [H, 4H]: contiguous, or a view on MKL's AVX2 branch
    private readonly Tensor[]? _masks;
    private readonly List<(LstmCell.Saved Cell, Tensor HPrevious)> _saved = new();

    private LstmRecurrence(Tensor weightHh, Tensor[]? masks)
    {
        _weight = weightHh.detach().contiguous();
        _weightT = Runtime.MklDispatch.WideProductOperand(_weight);
        _masks = masks;
    }

    /// <summary>inputGates [T, B, 4H]; weightHh [4H, H]; masks: per step [B, H] dropout masks or null. Returns h [T, B, H].</summary>
    public static Tensor Apply(Tensor inputGates, Tensor weightHh, Tensor[]? masks)
    {
        var r = new LstmRecurrence(weightHh, masks);
        if (!is_grad_enabled() || !(inputGates.requires_grad || weightHh.requires_grad))
        {
            using var _ = no_grad();
            return r.Run(inputGates, keep: false);
        }

        return Function.apply(inputGates, weightHh, r);
    }

    private Tensor Run(Tensor inputGates, bool keep)
    {
        long steps = inputGates.shape[0], b = inputGates.shape[1], h = _weight.shape[1];
        var hidden = zeros(new[] { b, h }, dtype: inputGates.dtype, device: inputGates.device);
        var cell = zeros_like(hidden);
        var outputs = new Tensor[steps];
        using var serial = SerialSection.Enter();
        for (var t = 0; t < steps; t++)
        {
            var gates = addmm(inputGates[t], hidden, _weightT, 1, 1);
            var (hNew, cNew, saved) = LstmCell.Forward(gates, cell, keep);
            if (keep) _saved.Add((saved!.Value, hidden));
            hidden = _masks is null ? hNew : hNew.mul_(_masks[t]);
            cell = cNew;
            outputs[t] = hidden;
        }

        return stack(outputs);
    }

    private List<Tensor> Backward(Tensor dOutputs)
    {
        var steps = _saved.Count;
        var dGates = new Tensor[steps];
        Tensor? dhNext = null, dcNext = null;
        using (SerialSection.Enter())
        {
            for (var t = steps - 1; t >= 0; t--)
            {
            var dh = dhNext is null ? dOutputs[t].clone() : dOutputs[t].add(dhNext, Scalars.One);
            if (_masks is not null) dh.mul_(_masks[t]);
            (dGates[t], dcNext) = LstmCell.Backward(_saved[t].Cell, dh, dcNext);
            dhNext = dGates[t].mm(_weight);
            }
        }

        var dG = stack(dGates); // [T, B, 4H]
        var dWeight = LstmCell.WeightGradient(dG, _saved.Select(s => s.HPrevious));
        _saved.Clear();
        return new List<Tensor> { dG, dWeight, null! };
    }

    private sealed class Function : SingleTensorFunction<Function>
    {
        public override string Name => "LstmRecurrence";

        public override Tensor forward(AutogradContext ctx, params object[] vars)
        {
            var r = (LstmRecurrence)vars[2];
            ctx.save_data("r", r);
            return r.Run((Tensor)vars[0], keep: true);
        }

        public override List<Tensor> backward(AutogradContext ctx, Tensor gradOutput) =>
            ((LstmRecurrence)ctx.get_data("r")).Backward(gradOutput);
    }
}

/// <summary>
/// The attention recurrence of the reference decoder over teacher-forced steps as one autograd function: per step
/// the attention LSTM (gates = preGates_t + [context_{t−1}, h_{t−1}]·W_recᵀ), dropout on h_t, location-sensitive
/// attention (energies v·tanh(processed memory + W_q h_t + location features), −∞ beyond each text length, softmax) and
/// the context. Location features are the location conv followed by the dense layer, applied as one matrix product of
/// their fused weight [A, 2k] with the windows of [previous, cumulative] weights (<see cref="LocationLayer.FusedWeight"/>).
/// <para>
/// Backward runs the steps in reverse by hand; the gradients of W_rec, W_q, the fused location weight, v, memory and
/// processed memory are formed once, from all steps' saved values, in a few large matrix products. The per-step
/// products use contiguous weights in the orientation MKL runs fastest. Same mathematics as the plain path
/// (<see cref="Decoder.ForwardPlain"/>); a test compares outputs and every gradient.
/// </para>
/// </summary>
internal sealed class AttentionRecurrence
{
    private readonly Tensor _memory; // [B, N, E]
    private readonly Tensor _processed; // [B, N, A]
    private readonly Tensor _recurrent; // W_rec [4H, E + H] contiguous
    private readonly Tensor _recurrentT; // [E + H, 4H]: contiguous, or a view on MKL's AVX2 branch
    private readonly Tensor _query; // W_q [A, H]
    private readonly Tensor _queryT; // [H, A]
    private readonly Tensor _location; // [A, 2k]
    private readonly Tensor _locationT; // [2k, A]
    private readonly Tensor _v; // [A]
    private readonly Tensor _padMask; // [B, N] true beyond the length
    private readonly Tensor[]? _masks;
    private readonly long _kernel;
    private readonly List<Saved> _saved = new();

    private readonly record struct Saved(Tensor Input, LstmCell.Saved Cell, Tensor Hidden, Tensor Windows, Tensor Tanh, Tensor Weights);

    private AttentionRecurrence(Tensor memory, Tensor processed, Tensor recurrent, Tensor query, Tensor location, Tensor v,
        Tensor padMask, Tensor[]? masks, long kernel)
    {
        _memory = memory.detach();
        _processed = processed.detach();
        _recurrent = recurrent.detach().contiguous();
        _recurrentT = Runtime.MklDispatch.WideProductOperand(_recurrent);
        _query = query.detach().contiguous();
        _queryT = _query.t().contiguous();
        _location = location.detach().contiguous();
        _locationT = _location.t().contiguous();
        _v = v.detach().reshape(-1);
        _padMask = padMask;
        _masks = masks;
        _kernel = kernel;
    }

    /// <summary>
    /// preGates [T, B, 4H] (prenet share of the input projection and both biases); memory [B, N, E]; processed memory
    /// [B, N, A]; recurrent weight [4H, E + H] (context columns of W_ih, then W_hh); query weight [A, H]; fused location
    /// weight [A, 2k]; v [1, A]; padMask [B, N]; per-step dropout masks [B, H] or null.
    /// Returns attention hidden states [T, B, H], contexts [T, B, E] and attention weights [B, T, N].
    /// </summary>
    public static (Tensor Hidden, Tensor Context, Tensor Weights) Apply(Tensor preGates, Tensor memory, Tensor processed,
        Tensor recurrent, Tensor query, Tensor location, Tensor v, Tensor padMask, Tensor[]? masks, long kernel)
    {
        var r = new AttentionRecurrence(memory, processed, recurrent, query, location, v, padMask, masks, kernel);
        var inputs = new[] { preGates, memory, processed, recurrent, query, location, v };
        List<Tensor> outputs;
        if (!is_grad_enabled() || !inputs.Any(x => x.requires_grad))
        {
            using var _ = no_grad();
            outputs = r.Run(preGates, keep: false);
        }
        else
        {
            outputs = Function.apply(preGates, memory, processed, recurrent, query, location, v, r);
        }

        return (outputs[0], outputs[1], outputs[2]);
    }

    private List<Tensor> Run(Tensor preGates, bool keep)
    {
        long steps = preGates.shape[0], b = _memory.shape[0], n = _memory.shape[1], e = _memory.shape[2], h = _query.shape[1];
        var options = (dtype: preGates.dtype, device: preGates.device);
        var hidden = zeros(new[] { b, h }, options.dtype, options.device);
        var cell = zeros_like(hidden);
        var context = zeros(new[] { b, e }, options.dtype, options.device);
        var weights = zeros(new[] { b, n }, options.dtype, options.device);
        var cumulative = zeros_like(weights);
        var pad = (_kernel - 1) / 2;
        var hs = new Tensor[steps];
        var contexts = new Tensor[steps];
        var alignments = new Tensor[steps];
        using var serial = SerialSection.Enter();
        for (var t = 0; t < steps; t++)
        {
            var input = cat(new[] { context, hidden }, 1);
            var gates = addmm(preGates[t], input, _recurrentT, 1, 1);
            var (hNew, cNew, saved) = LstmCell.Forward(gates, cell, keep);
            var hDropped = _masks is null ? hNew : hNew.mul_(_masks[t]);

            var windows = F.pad(stack(new[] { weights, cumulative }, 1), new[] { pad, pad })
                .unfold(2, _kernel, 1).permute(0, 2, 1, 3).reshape(b * n, 2 * _kernel); // [B·N, 2k]
            var energiesIn = _processed.add(hDropped.mm(_queryT).unsqueeze(1), Scalars.One).view(b * n, -1); // [B·N, A]
            var tanh = addmm(energiesIn, windows, _locationT, 1, 1).tanh_();
            var newWeights = tanh.mv(_v).view(b, n).masked_fill_(_padMask, Scalars.NegativeInfinity).softmax(1);
            var newContext = newWeights.unsqueeze(1).bmm(_memory).squeeze(1);

            if (keep) _saved.Add(new Saved(input, saved!.Value, hDropped, windows, tanh, newWeights));
            hidden = hDropped;
            cell = cNew;
            context = newContext;
            cumulative = cumulative.add(newWeights, Scalars.One);
            weights = newWeights;
            hs[t] = hidden;
            contexts[t] = context;
            alignments[t] = weights;
        }

        return new List<Tensor> { stack(hs), stack(contexts), stack(alignments, 1) };
    }

    private List<Tensor> Backward(List<Tensor> grads)
    {
        var (dHs, dContexts, dAlignments) = (grads[0], grads[1], grads[2]);
        var steps = _saved.Count;
        long b = _memory.shape[0], n = _memory.shape[1], e = _memory.shape[2], a = _query.shape[0];
        var pad = (_kernel - 1) / 2;
        var locationKernel = _location.view(a, 2, _kernel);
        var dGates = new Tensor[steps];
        var dContextAll = new Tensor[steps];
        var dQueries = new Tensor[steps]; // [B, A]
        var options = (dtype: _memory.dtype, device: _memory.device);
        var dProcessed = zeros(new[] { b * n, a }, options.dtype, options.device);
        var dLocation = zeros(new[] { a, 2 * _kernel }, options.dtype, options.device);
        var dV = zeros(new[] { a }, options.dtype, options.device);
        Tensor? dhNext = null, dcNext = null, dContextNext = null, dWeightsNext = null, dCumulativeLater = null;
        var serial = SerialSection.Enter();
        for (var t = steps - 1; t >= 0; t--)
        {
            var s = _saved[t];
            // Attention weights w_t: the alignment output, their use as "previous" at t+1 and in every later cumulative sum.
            var dw = dAlignments.select(1, t).clone();
            if (dWeightsNext is not null) dw.add_(dWeightsNext, Scalars.One);
            if (dCumulativeLater is not null) dw.add_(dCumulativeLater, Scalars.One);
            var dContext = dContextNext is null ? dContexts[t].clone() : dContexts[t].add(dContextNext, Scalars.One);
            dContextAll[t] = dContext;
            dw.add_(_memory.bmm(dContext.unsqueeze(2)).squeeze(2), Scalars.One); // context = w·memory

            var dEnergy = dw.sub_(dw.mul(s.Weights).sum(1, keepdim: true)).mul_(s.Weights).view(b * n); // softmax
            dV.addmv_(s.Tanh.t(), dEnergy);
            var dPre = s.Tanh.pow(Scalars.Two).neg_().add_(Scalars.One, Scalars.One).mul_(_v).mul_(dEnergy.unsqueeze(1)); // [B·N, A]
            dProcessed.add_(dPre, Scalars.One);
            dLocation.addmm_(dPre.t(), s.Windows);
            var dQuery = dPre.view(b, n, a).sum(1); // [B, A]
            dQueries[t] = dQuery;

            var dLocationIn = F.conv_transpose1d(dPre.view(b, n, a).transpose(1, 2), locationKernel, padding: pad); // [B, 2, N]
            dWeightsNext = dLocationIn.select(1, 0);
            var dCumulative = dLocationIn.select(1, 1);
            dCumulativeLater = dCumulativeLater is null ? dCumulative.clone() : dCumulativeLater.add_(dCumulative, Scalars.One);

            var dh = dQuery.mm(_query).add_(dHs[t], Scalars.One);
            if (dhNext is not null) dh.add_(dhNext, Scalars.One);
            if (_masks is not null) dh.mul_(_masks[t]);
            (dGates[t], dcNext) = LstmCell.Backward(s.Cell, dh, dcNext);
            var dInput = dGates[t].mm(_recurrent); // [B, E + H]
            dContextNext = dInput.narrow(1, 0, e);
            dhNext = dInput.narrow(1, e, dInput.shape[1] - e);
        }

        serial.Dispose();
        var dG = stack(dGates); // [T, B, 4H]
        var dRecurrent = LstmCell.WeightGradient(dG, _saved.Select(x => x.Input));
        var weightsAll = stack(_saved.Select(x => x.Weights).ToArray(), 1); // [B, T, N]
        var dMemory = weightsAll.transpose(1, 2).bmm(stack(dContextAll, 1)); // [B, N, E]
        var dQueryWeight = LstmCell.WeightGradient(stack(dQueries), _saved.Select(x => x.Hidden));
        _saved.Clear();
        return new List<Tensor> { dG, dMemory, dProcessed.view(b, n, a), dRecurrent, dQueryWeight, dLocation, dV.view(1, a), null! };
    }

    private sealed class Function : MultiTensorFunction<Function>
    {
        public override string Name => "AttentionRecurrence";

        public override List<Tensor> forward(AutogradContext ctx, params object[] vars)
        {
            var r = (AttentionRecurrence)vars[7];
            ctx.save_data("r", r);
            return r.Run((Tensor)vars[0], keep: true);
        }

        public override List<Tensor> backward(AutogradContext ctx, List<Tensor> grads) =>
            ((AttentionRecurrence)ctx.get_data("r")).Backward(grads);
    }
}
