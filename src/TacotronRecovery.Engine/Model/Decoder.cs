using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Health;
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
/// Teacher forcing (<see cref="Forward(Tensor, Tensor, Tensor)"/>) runs the same mathematics as the reference's step-by-step loop, arranged for
/// speed: the prenet runs over all frames in one call, and so does the prenet part of the attention LSTM's input
/// projection (with both biases). The attention recurrence (attention LSTM, attention) does not depend on the decoder
/// LSTM, so it runs first, alone, as one hand-differentiated autograd function (<see cref="AttentionRecurrence"/>); the
/// decoder LSTM's input projection then runs for all steps in one matrix product and its recurrence as a second such
/// function (<see cref="LstmRecurrence"/>); the linear projection and the gate run once over all steps. Weight gradients
/// are formed once per batch from all steps. <see cref="ForwardPlain"/> keeps the plain per-step path (the reference's
/// modules, autograd) for equality tests and <see cref="Infer"/> uses its step.
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
        var (mel, gate, alignments, _) = Forward(memory, mels, memoryLengths, null);
        return (mel, gate, alignments);
    }

    /// <summary>
    /// <see cref="Forward(Tensor, Tensor, Tensor)"/>, and with <paramref name="mmi"/> also the decoder LSTM's outputs
    /// [B, T/r, decoder_rnn_dim] for the MMI recogniser, on their own branch whose gradient meets the Tacotron's at
    /// <paramref name="mmi"/> (<see cref="GradientAdaptiveFactor"/>); null without it.
    /// </summary>
    public (Tensor Mel, Tensor Gate, Tensor Alignments, Tensor? DecoderOutputs) Forward(Tensor memory, Tensor mels, Tensor memoryLengths,
        GradientAdaptiveFactor? mmi)
    {
        var (b, tDec, inputs) = TeacherInputs(mels);
        long p = _o.PrenetDim, e = memory.shape[2];

        // Prenet over all steps, then its share of the attention LSTM's input projection (plus both biases) at once.
        var pre = prenet.call(inputs); // [Tdec, B, P]
        var wih = attention_rnn.weight_ih!;
        var preGates = MixedPrecision.Addmm("attention_rnn.input", attention_rnn.bias_ih!.add(attention_rnn.bias_hh!, Scalars.One), pre.reshape(tDec * b, p), wih.narrow(1, 0, p).t())
            .view(tDec, b, -1);

        // The attention recurrence (attention LSTM and attention) does not depend on the decoder LSTM: it runs alone.
        var location = attention_layer.Location;
        var (attentionHidden, context, alignments) = AttentionRecurrence.Apply(preGates, memory, attention_layer.ProjectMemory(memory),
            cat(new[] { wih.narrow(1, p, e), attention_rnn.weight_hh! }, 1), attention_layer.QueryWeight, location.FusedWeight(),
            attention_layer.EnergyWeight, Masks.Valid(memoryLengths, memory.shape[1]).logical_not(),
            DropoutMasks(tDec, b, _o.AttentionRnnDim, _o.PAttentionDropout, memory), location.KernelSize);

        // The decoder LSTM: its input projection for all steps in one matrix product, then its recurrence.
        var decoderInput = cat(new[] { attentionHidden, context }, 2).view(tDec * b, -1);
        var inputGates = MixedPrecision.Addmm("decoder_rnn.input", decoder_rnn.bias_ih!.add(decoder_rnn.bias_hh!, Scalars.One), decoderInput, decoder_rnn.weight_ih!.t())
            .view(tDec, b, -1);
        var hidden = LstmRecurrence.Apply(inputGates, decoder_rnn.weight_hh!,
            DropoutMasks(tDec, b, _o.DecoderRnnDim, _o.PDecoderDropout, memory));
        Tensor? decoderOutputs = null;
        if (mmi is not null)
        {
            (hidden, var branch) = mmi.Split(hidden);
            decoderOutputs = branch.transpose(0, 1); // [B, Tdec, Hd]
        }

        var dhc = cat(new[] { hidden, context }, 2); // [Tdec, B, Hd + E]
        var proj = linear_projection.call(dhc); // [Tdec, B, M r]
        var gate = gate_layer.call(_o.SeparateGate ? dhc.detach() : dhc).squeeze(2).t(); // [B, Tdec]
        var mel = proj.transpose(0, 1).reshape(b, tDec * _o.NFramesPerStep, _o.NMelChannels).transpose(1, 2);
        return (mel, gate, alignments, decoderOutputs);
    }

    /// <summary>
    /// Inverted-dropout masks (0 or 1/(1−p)) for a recurrent hidden state, one [B, H] per step, drawn at once for all
    /// steps; null when dropout is off (evaluation, or p = 0). Same distribution as F.dropout per step, one call.
    /// </summary>
    private Tensor[]? DropoutMasks(long steps, long b, long h, double p, Tensor like)
    {
        if (!training || p <= 0) return null;
        using var keep = empty(new[] { steps, b, h }, dtype: like.dtype, device: like.device).bernoulli_(1 - p);
        using var scale = (1 - p).ToScalar();
        return keep.div(scale).unbind(0);
    }

    /// <summary>The plain step-by-step path (LSTMCell modules, per-step prenet and projections), as the reference.</summary>
    internal (Tensor Mel, Tensor Gate, Tensor Alignments) ForwardPlain(Tensor memory, Tensor mels, Tensor memoryLengths)
    {
        var (b, tDec, inputs) = TeacherInputs(mels);
        var s = new PlainState(this, memory, memoryLengths);
        var outs = new List<Tensor>();
        var gates = new List<Tensor>();
        var aligns = new List<Tensor>();
        for (var t = 0; t < tDec; t++)
        {
            var dhc = s.Step(prenet.call(inputs[t]));
            outs.Add(linear_projection.call(dhc));
            gates.Add(gate_layer.call(_o.SeparateGate ? dhc.detach() : dhc).squeeze(1));
            aligns.Add(s.Weights);
        }

        var mel = stack(outs).transpose(0, 1).reshape(b, tDec * _o.NFramesPerStep, _o.NMelChannels).transpose(1, 2);
        return (mel, stack(gates).t(), stack(aligns, 1));
    }

    /// <summary>
    /// Free-running decoding. Utterance i ends at the first step whose gate logit exceeds
    /// <see cref="ModelOptions.GateStopLogit"/> (Gate: the threshold corrected for the gate's training pos_weight), when
    /// its attention has rested at its last tokens for <paramref name="stallSteps"/> steps (Stall, see
    /// <see cref="AttentionStall"/>; 0 turns the detector off), or after stepLimits[i] steps (StepLimit); decoding ends
    /// when every utterance has ended. Returns mel [B, nMels, steps·r] (raw, unmasked), gate logits per step [B, steps],
    /// alignments [B, steps, N], per-utterance lengths in frames and what ended each utterance.
    /// </summary>
    public (Tensor Mel, Tensor Gate, Tensor Alignments, int[] Lengths, StopReason[] StoppedBy) Infer(Tensor memory,
        Tensor memoryLengths, int[] stepLimits, int stallSteps)
    {
        var b = (int)memory.shape[0];
        if (stepLimits.Length != b) throw new ArgumentException($"{stepLimits.Length} step limits for {b} utterances.", nameof(stepLimits));
        long m = _o.NMelChannels, r = _o.NFramesPerStep;
        var s = new PlainState(this, memory, memoryLengths);
        var previous = zeros(b, m, dtype: memory.dtype, device: memory.device);
        var outs = new List<Tensor>();
        var gates = new List<Tensor>();
        var aligns = new List<Tensor>();
        var lengths = new int[b];
        var stoppedBy = new StopReason[b];
        var done = new bool[b];
        var tokens = memoryLengths.cpu().to_type(ScalarType.Int64).data<long>().ToArray();
        var stalls = stallSteps > 0 ? tokens.Select(n => new AttentionStall((int)Math.Max(1, n), stallSteps)).ToArray() : null;
        var remaining = b;
        var stopLogit = _o.GateStopLogit();
        var maxSteps = stepLimits.Max();
        var steps = 0;
        while (steps < maxSteps && remaining > 0)
        {
            var dhc = s.Step(prenet.call(previous));
            var proj = linear_projection.call(dhc); // [B, M r]
            var gate = gate_layer.call(dhc).squeeze(1); // [B]
            outs.Add(proj);
            gates.Add(gate);
            aligns.Add(s.Weights);
            previous = proj.narrow(1, (r - 1) * m, m);
            steps++;
            var logits = gate.to_type(ScalarType.Float64).cpu().data<double>().ToArray();
            long[]? peaks = null;
            if (stalls is not null)
            {
                using var argmax = s.Weights.argmax(1);
                peaks = argmax.cpu().data<long>().ToArray();
            }

            for (var i = 0; i < b; i++)
            {
                if (done[i]) continue;
                if (logits[i] > stopLogit)
                {
                    End(i, StopReason.Gate, steps);
                }
                else if (stalls is not null && stalls[i].Observe((int)peaks![i]))
                {
                    End(i, StopReason.Stall, stalls[i].EstimatedEnd!.Value);
                }
                else if (steps >= stepLimits[i])
                {
                    End(i, StopReason.StepLimit, steps);
                }
            }
        }

        var mel = stack(outs).transpose(0, 1).reshape(b, steps * r, m).transpose(1, 2);
        return (mel, stack(gates).t(), stack(aligns, 1), lengths, stoppedBy);

        void End(int i, StopReason reason, int atStep)
        {
            done[i] = true;
            stoppedBy[i] = reason;
            lengths[i] = (int)(atStep * r);
            remaining--;
        }
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

    /// <summary>The recurrent state of the plain path: one decoder step at a time with the reference's modules.</summary>
    private sealed class PlainState
    {
        private readonly Decoder _d;
        private readonly Tensor _memory;
        private readonly Tensor _processedMemory;
        private readonly Tensor _padMask;
        private Tensor _ah, _ac, _dh, _dc, _cumulative, _context;

        public PlainState(Decoder d, Tensor memory, Tensor memoryLengths)
        {
            _d = d;
            var o = d._o;
            long b = memory.shape[0], n = memory.shape[1];
            _memory = memory;
            _processedMemory = d.attention_layer.ProcessMemory(memory);
            _padMask = Masks.Valid(memoryLengths, n).logical_not();
            _ah = zeros(b, o.AttentionRnnDim, dtype: memory.dtype, device: memory.device);
            _ac = zeros_like(_ah);
            _dh = zeros(b, o.DecoderRnnDim, dtype: memory.dtype, device: memory.device);
            _dc = zeros_like(_dh);
            Weights = zeros(b, n, dtype: memory.dtype, device: memory.device);
            _cumulative = zeros_like(Weights);
            _context = zeros(b, memory.shape[2], dtype: memory.dtype, device: memory.device);
        }

        /// <summary>Attention weights of the last step [B, N].</summary>
        public Tensor Weights { get; private set; }

        /// <summary>One decoder step given the prenet output [B, P]; returns [decoder hidden, context] [B, Hd + E].</summary>
        public Tensor Step(Tensor prenetOutput)
        {
            var o = _d._o;
            (_ah, _ac) = _d.attention_rnn.call(cat(new[] { prenetOutput, _context }, -1), (_ah, _ac));
            _ah = F.dropout(_ah, o.PAttentionDropout, _d.training);
            (_context, var w) = _d.attention_layer.Step(_ah, _memory, _processedMemory, Weights, _cumulative, _padMask);
            Weights = w;
            _cumulative = _cumulative.add(w, Scalars.One);
            (_dh, _dc) = _d.decoder_rnn.call(cat(new[] { _ah, _context }, -1), (_dh, _dc));
            _dh = F.dropout(_dh, o.PDecoderDropout, _d.training);
            return cat(new[] { _dh, _context }, 1);
        }
    }
}
