using TacotronRecovery.Core.Config;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TacotronRecovery.Engine.Model;

/// <summary>
/// The reference decoder: prenet, attention LSTMCell, location-sensitive attention, decoder LSTMCell, linear projection
/// to nMels·r and a gate linear (one logit per decoder step).
/// Keys: <c>prenet.*</c>, <c>attention_rnn.{weight_ih,weight_hh,bias_ih,bias_hh}</c>, <c>attention_layer.*</c>,
/// <c>decoder_rnn.*</c>, <c>linear_projection.linear_layer.*</c>, <c>gate_layer.linear_layer.*</c>.
/// <para>
/// Reduction factor r: decoder step t predicts frames t·r … t·r + r − 1; its input is the last frame of the previous group
/// (a zero go frame at t = 0), so the prenet input is nMels wide for every r (for r = 1 this is exactly the reference).
/// </para>
/// <para>
/// Teacher forcing (<see cref="Forward"/>) runs the same mathematics as the reference's step-by-step loop, arranged for
/// speed: the prenet runs over all frames in one call; the prenet part of the attention LSTM's input projection (with
/// both biases) is one matrix product for all steps; the memory projection is computed once; each LSTM step is a single
/// fused addmm over [input, hidden] with the concatenated weights; the recurrent weights' gradients are formed once per
/// batch (<see cref="DeferredWeightGradient"/>); the linear projection and the gate run once over all steps after the loop. <see cref="ForwardPlain"/> keeps the plain per-step path (LSTMCell modules) for equality tests.
/// </para>
/// </summary>
public sealed class Decoder : nn.Module
{
    private readonly Prenet prenet;
    private readonly LSTMCell attention_rnn;
    private readonly Attention attention_layer;
    private readonly LSTMCell decoder_rnn;
    private readonly LinearNorm linear_projection;
    private readonly LinearNorm gate_layer;
    private readonly ModelOptions _o;

    public Decoder(string name, ModelOptions o) : base(name)
    {
        _o = o;
        long m = o.NMelChannels, r = o.NFramesPerStep, e = o.EncoderEmbeddingDim;
        prenet = new Prenet("prenet", m, new long[] { o.PrenetDim, o.PrenetDim }, o.PrenetDropout, o.PrenetDropoutAlways);
        attention_rnn = nn.LSTMCell(o.PrenetDim + e, o.AttentionRnnDim);
        attention_layer = new Attention("attention_layer", o.AttentionRnnDim, e, o.AttentionDim,
            o.AttentionLocationNFilters, o.AttentionLocationKernelSize);
        decoder_rnn = nn.LSTMCell(o.AttentionRnnDim + e, o.DecoderRnnDim);
        linear_projection = new LinearNorm("linear_projection", o.DecoderRnnDim + e, m * r);
        gate_layer = new LinearNorm("gate_layer", o.DecoderRnnDim + e, 1, bias: true, gain: InitGain.Sigmoid);
        RegisterComponents();
    }

    /// <summary>
    /// Teacher-forced decoding. memory [B, N, E]; mels [B, nMels, T] with T a multiple of r; memoryLengths [B].
    /// Returns mel [B, nMels, T], gate logits per step [B, T/r], alignments [B, T/r, N].
    /// </summary>
    public (Tensor Mel, Tensor Gate, Tensor Alignments) Forward(Tensor memory, Tensor mels, Tensor memoryLengths)
    {
        var (b, tDec, inputs) = TeacherInputs(mels);
        var s = new State(this, memory, memoryLengths, tDec);

        // Prenet over all steps, then its share of the attention LSTM input projection (plus both biases) at once.
        var pre = prenet.call(inputs); // [Tdec, B, P]
        var p = _o.PrenetDim;
        var preGatesAll = addmm(s.AttentionBias, pre.reshape(tDec * b, p), s.AttentionWeightPrenet.t(), 1, 1).view(tDec, b, -1);
        var preGates = (s.AttentionTaps is { } taps ? preGatesAll.add(taps) : preGatesAll).unbind(0);

        var hs = new Tensor[tDec];
        var ctxs = new Tensor[tDec];
        var aligns = new Tensor[tDec];
        for (var t = 0; t < tDec; t++)
        {
            s.Step(preGates[t], t);
            hs[t] = s.DecoderHidden;
            ctxs[t] = s.Context;
            aligns[t] = s.Weights;
        }

        var dhc = cat(new[] { stack(hs), stack(ctxs) }, 2); // [Tdec, B, Hd + E]
        var proj = linear_projection.call(dhc); // [Tdec, B, M r]
        var gate = gate_layer.call(dhc).squeeze(2).t(); // [B, Tdec]
        var mel = proj.transpose(0, 1).reshape(b, tDec * _o.NFramesPerStep, _o.NMelChannels).transpose(1, 2);
        return (mel, gate, stack(aligns, 1));
    }

    /// <summary>The plain step-by-step path (LSTMCell modules, per-step prenet and projections), as the reference.</summary>
    internal (Tensor Mel, Tensor Gate, Tensor Alignments) ForwardPlain(Tensor memory, Tensor mels, Tensor memoryLengths)
    {
        var (b, tDec, inputs) = TeacherInputs(mels);
        var n = memory.shape[1];
        var ah = zeros(b, _o.AttentionRnnDim);
        var ac = zeros_like(ah);
        var dh = zeros(b, _o.DecoderRnnDim);
        var dc = zeros_like(dh);
        var w = zeros(b, n);
        var wcum = zeros(b, n);
        var ctx = zeros(b, memory.shape[2]);
        var pm = attention_layer.ProcessMemory(memory);
        var padMask = Masks.Valid(memoryLengths, n).logical_not();
        var outs = new List<Tensor>();
        var gates = new List<Tensor>();
        var aligns = new List<Tensor>();
        for (var t = 0; t < tDec; t++)
        {
            var x = prenet.call(inputs[t]);
            (ah, ac) = attention_rnn.call(cat(new[] { x, ctx }, -1), (ah, ac));
            ah = F.dropout(ah, _o.PAttentionDropout, training);
            (ctx, w) = attention_layer.Step(ah, memory, pm, w, wcum, padMask);
            wcum = wcum + w;
            (dh, dc) = decoder_rnn.call(cat(new[] { ah, ctx }, -1), (dh, dc));
            dh = F.dropout(dh, _o.PDecoderDropout, training);
            var dhc = cat(new[] { dh, ctx }, 1);
            outs.Add(linear_projection.call(dhc));
            gates.Add(gate_layer.call(dhc).squeeze(1));
            aligns.Add(w);
        }

        var mel = stack(outs).transpose(0, 1).reshape(b, tDec * _o.NFramesPerStep, _o.NMelChannels).transpose(1, 2);
        return (mel, stack(gates).t(), stack(aligns, 1));
    }

    /// <summary>
    /// Free-running decoding for up to maxSteps; stops when every utterance's sigmoid(gate) exceeded the threshold once.
    /// Returns mel [B, nMels, steps·r] (raw, unmasked), gate logits per step [B, steps], alignments [B, steps, N],
    /// per-utterance lengths in frames and whether the utterance never stopped.
    /// </summary>
    public (Tensor Mel, Tensor Gate, Tensor Alignments, int[] Lengths, bool[] HitMaxSteps) Infer(Tensor memory,
        Tensor memoryLengths, int maxSteps)
    {
        var b = (int)memory.shape[0];
        long m = _o.NMelChannels, r = _o.NFramesPerStep;
        var s = new State(this, memory, memoryLengths, steps: 0);
        var wpT = s.AttentionWeightPrenet.t();
        var previous = zeros(b, m, dtype: memory.dtype, device: memory.device);
        var outs = new List<Tensor>();
        var gates = new List<Tensor>();
        var aligns = new List<Tensor>();
        var lengths = new int[b];
        var done = new bool[b];
        var remaining = b;
        var threshold = _o.GateThreshold;
        var steps = 0;
        while (steps < maxSteps && remaining > 0)
        {
            var pre = prenet.call(previous);
            s.Step(addmm(s.AttentionBias, pre, wpT, 1, 1), steps);
            var dhc = cat(new[] { s.DecoderHidden, s.Context }, 1);
            var proj = linear_projection.call(dhc); // [B, M r]
            var gate = gate_layer.call(dhc).squeeze(1); // [B]
            outs.Add(proj);
            gates.Add(gate);
            aligns.Add(s.Weights);
            previous = proj.narrow(1, (r - 1) * m, m);
            steps++;
            var probabilities = gate.sigmoid().to_type(ScalarType.Float64).data<double>().ToArray();
            for (var i = 0; i < b; i++)
            {
                if (!done[i] && probabilities[i] > threshold)
                {
                    done[i] = true;
                    lengths[i] = (int)(steps * r);
                    remaining--;
                }
            }
        }

        var hit = new bool[b];
        for (var i = 0; i < b; i++)
        {
            if (!done[i])
            {
                hit[i] = true;
                lengths[i] = (int)(steps * r);
            }
        }

        var mel = stack(outs).transpose(0, 1).reshape(b, steps * r, m).transpose(1, 2);
        return (mel, stack(gates).t(), stack(aligns, 1), lengths, hit);
    }

    /// <summary>Re-initialise attention_rnn (PyTorch's LSTMCell default) and attention_layer (reference Xavier).</summary>
    public void ReinitializeAttention()
    {
        using (no_grad())
        {
            var bound = 1.0 / Math.Sqrt(_o.AttentionRnnDim);
            foreach (var p in attention_rnn.parameters())
            {
                nn.init.uniform_(p, -bound, bound);
            }
        }

        attention_layer.ResetParameters();
    }

    private (long B, long TDec, Tensor Inputs) TeacherInputs(Tensor mels)
    {
        long b = mels.shape[0], t = mels.shape[2], m = _o.NMelChannels, r = _o.NFramesPerStep;
        if (mels.shape[1] != m)
        {
            throw new ArgumentException($"mels has {mels.shape[1]} channels, model.n_mel_channels is {m}.", nameof(mels));
        }

        if (t % r != 0 || t == 0)
        {
            throw new ArgumentException($"mels has {t} frames: must be a positive multiple of n_frames_per_step ({r}); pad the batch.", nameof(mels));
        }

        var tDec = t / r;
        // Last frame of each group [B, Tdec, M], shifted by one step behind a zero go frame → [Tdec, B, M].
        var last = mels.narrow(2, r - 1, t - (r - 1)).slice(2, 0, t - (r - 1), r);
        var go = zeros(b, m, 1, dtype: mels.dtype, device: mels.device);
        var inputs = cat(new[] { go, last.narrow(2, 0, tDec - 1) }, 2).permute(2, 0, 1);
        return (b, tDec, inputs);
    }

    /// <summary>The decoder's recurrent state and the per-batch constants of the fast path.</summary>
    private sealed class State
    {
        private readonly Decoder _d;
        private readonly Tensor _memory;
        private readonly Tensor _processedMemory;
        private readonly Tensor _padMask;
        private readonly Tensor _attentionRecurrentT; // [E + Ha, 4 Ha]: input-projection columns of the context, then W_hh
        private readonly Tensor _decoderWeightT; // [Ha + E + Hd, 4 Hd]
        private readonly Tensor _decoderBias;
        private readonly DeferredWeightGradient? _attentionDeferred;
        private readonly DeferredWeightGradient? _decoderDeferred;
        private readonly Tensor[]? _decoderBiasSteps;
        private Tensor _ah, _ac, _dc, _cumulative;

        /// <summary>steps &gt; 0: teacher forcing over that many steps, recurrent weight gradients deferred (when recorded).</summary>
        public State(Decoder d, Tensor memory, Tensor memoryLengths, long steps)
        {
            _d = d;
            var o = d._o;
            long b = memory.shape[0], n = memory.shape[1], e = memory.shape[2], p = o.PrenetDim;
            var wih = d.attention_rnn.weight_ih!;
            AttentionWeightPrenet = wih.narrow(1, 0, p);
            AttentionBias = d.attention_rnn.bias_ih!.add(d.attention_rnn.bias_hh!);
            _attentionRecurrentT = cat(new[] { wih.narrow(1, p, e), d.attention_rnn.weight_hh! }, 1).t();
            _decoderWeightT = cat(new[] { d.decoder_rnn.weight_ih!, d.decoder_rnn.weight_hh! }, 1).t();
            _decoderBias = d.decoder_rnn.bias_ih!.add(d.decoder_rnn.bias_hh!);
            if (steps > 0)
            {
                _attentionDeferred = DeferredWeightGradient.Create(_attentionRecurrentT, steps, b);
                _decoderDeferred = DeferredWeightGradient.Create(_decoderWeightT, steps, b);
                _decoderBiasSteps = _decoderDeferred?.Taps.add(_decoderBias).unbind(0);
            }

            _memory = memory;
            _processedMemory = d.attention_layer.ProcessMemory(memory);
            _padMask = Masks.Valid(memoryLengths, n).logical_not();
            _ah = zeros(b, o.AttentionRnnDim, dtype: memory.dtype, device: memory.device);
            _ac = zeros_like(_ah);
            DecoderHidden = zeros(b, o.DecoderRnnDim, dtype: memory.dtype, device: memory.device);
            _dc = zeros_like(DecoderHidden);
            Weights = zeros(b, n, dtype: memory.dtype, device: memory.device);
            _cumulative = zeros_like(Weights);
            Context = zeros(b, e, dtype: memory.dtype, device: memory.device);
        }

        public Tensor AttentionWeightPrenet { get; }
        public Tensor AttentionBias { get; }

        /// <summary>Zeros [steps, B, 4 Ha] to add to the attention LSTM's per-step gates (deferred weight gradient), or null.</summary>
        public Tensor? AttentionTaps => _attentionDeferred?.Taps;
        public Tensor DecoderHidden { get; private set; }
        public Tensor Context { get; private set; }
        public Tensor Weights { get; private set; }

        /// <summary>Decoder step t given the prenet part of the attention LSTM's gates (biases and taps included).</summary>
        public void Step(Tensor prenetGates, int t)
        {
            var o = _d._o;
            var training = _d.training;
            var attentionInput = cat(new[] { Context, _ah }, 1);
            _attentionDeferred?.Record(attentionInput);
            var attentionGates = addmm(prenetGates, attentionInput, _attentionDeferred?.Detached ?? _attentionRecurrentT, 1, 1);
            (_ah, _ac) = LstmPointwise(attentionGates, _ac);
            _ah = F.dropout(_ah, o.PAttentionDropout, training);
            var (context, weights) = _d.attention_layer.Step(_ah, _memory, _processedMemory, Weights, _cumulative, _padMask);
            Context = context;
            Weights = weights;
            _cumulative = _cumulative.add(weights);
            var decoderInput = cat(new[] { _ah, context, DecoderHidden }, 1);
            _decoderDeferred?.Record(decoderInput);
            var decoderGates = addmm(_decoderBiasSteps?[t] ?? _decoderBias, decoderInput, _decoderDeferred?.Detached ?? _decoderWeightT, 1, 1);
            (var dh, _dc) = LstmPointwise(decoderGates, _dc);
            DecoderHidden = F.dropout(dh, o.PDecoderDropout, training);
        }

        /// <summary>LSTM cell arithmetic on gates [B, 4H] in PyTorch's order (input, forget, cell, output).</summary>
        private static (Tensor H, Tensor C) LstmPointwise(Tensor gates, Tensor c)
        {
            var chunks = gates.chunk(4, 1);
            var i = chunks[0].sigmoid();
            var f = chunks[1].sigmoid();
            var g = chunks[2].tanh();
            var o = chunks[3].sigmoid();
            var c2 = f.mul(c).addcmul_(i, g, 1);
            return (o.mul(c2.tanh()), c2);
        }
    }
}
