using TacotronRecovery.Core.Health;
using TacotronRecovery.Engine.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Tests.Model;

[Collection("torch")]
public class Tacotron2Tests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Forward_TinyBatch_HasDocumentedShapes(int r)
    {
        using var scope = NewDisposeScope();
        random.manual_seed(1);
        using var model = new Tacotron2("tacotron2", ModelTestData.Tiny(r));
        var x = ModelTestData.Make(model.Options, new[] { 9, 6, 4 }, new[] { 13, 12, 7 });
        var t = x.Mels.shape[2];
        Assert.Equal(0, t % r);
        var y = model.Forward(x.Text, x.TextLengths, x.Mels, x.MelLengths);
        Assert.Equal(new long[] { 3, 5, t }, y.MelOutputs.shape);
        Assert.Equal(new long[] { 3, 5, t }, y.MelOutputsPostnet.shape);
        Assert.Equal(new long[] { 3, t }, y.GateOutputs.shape);
        Assert.Equal(new long[] { 3, t / r, 9 }, y.Alignments.shape);
        // Rows of valid steps sum to 1; no attention on tokens beyond a text length.
        var rowSums = y.Alignments.sum(2);
        Assert.True(rowSums.sub(1).abs().max().item<float>() < 1e-5f);
        Assert.Equal(0f, y.Alignments[2, .., 4..].abs().max().item<float>());
        // Outputs are zero (gate 1e3) beyond each mel length.
        Assert.Equal(0f, y.MelOutputsPostnet[2, .., 7..].abs().max().item<float>());
        Assert.Equal(1e3f, y.GateOutputs[2, 7..].min().item<float>());
    }

    [Fact]
    public void Forward_R2_GateIsOneLogitPerStepRepeatedOverItsFrames()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(2);
        using var model = new Tacotron2("tacotron2", ModelTestData.Tiny(2));
        var x = ModelTestData.Make(model.Options, new[] { 7, 5 }, new[] { 10, 10 });
        var gate = model.Forward(x.Text, x.TextLengths, x.Mels, x.MelLengths).GateOutputs;
        var pairs = gate.view(2, 5, 2);
        Assert.Equal(0f, pairs[.., .., 0].sub(pairs[.., .., 1]).abs().max().item<float>());
        Assert.True(pairs[.., .., 0].std().item<float>() > 0);
    }

    [Fact]
    public void Forward_FramesNotMultipleOfR_ThrowsNamingR()
    {
        using var scope = NewDisposeScope();
        using var model = new Tacotron2("tacotron2", ModelTestData.Tiny(2));
        var x = ModelTestData.Make(ModelTestData.Tiny(1), new[] { 5 }, new[] { 7 });
        var e = Assert.Throws<ArgumentException>(() => model.Forward(x.Text, x.TextLengths, x.Mels, x.MelLengths));
        Assert.Contains("n_frames_per_step (2)", e.Message);
    }

    // views: the per-step 4H-wide weights as transposed views (MKL's AVX2 branch) or contiguous copies (AVX-512).
    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    public void Forward_FastPath_EqualsPlainStepByStepInOutputsAndGradients(int r, bool views)
    {
        TacotronRecovery.Engine.Runtime.MklDispatch.WideProductViews = views;
        try
        {
            FastEqualsPlain(r);
        }
        finally
        {
            TacotronRecovery.Engine.Runtime.MklDispatch.WideProductViews = null;
        }
    }

    private static void FastEqualsPlain(int r)
    {
        using var scope = NewDisposeScope();
        random.manual_seed(3);
        using var model = new Tacotron2("tacotron2", ModelTestData.Tiny(r) with { PrenetDropoutAlways = false });
        model.eval();
        var x = ModelTestData.Make(model.Options, new[] { 9, 6, 4 }, new[] { 14, 12, 7 });
        var loss = new Tacotron2Loss(3.0, 0.2);

        Tacotron2Output Run(bool plain, out Dictionary<string, float[]> grads)
        {
            model.zero_grad();
            var y = plain
                ? model.ForwardPlain(x.Text, x.TextLengths, x.Mels, x.MelLengths)
                : model.Forward(x.Text, x.TextLengths, x.Mels, x.MelLengths);
            loss.Compute(y, x.Mels, x.GateTargets, x.MelLengths, x.TextLengths, 2.0, r).Total.backward();
            grads = ModelTestData.Gradients(model);
            return y;
        }

        var fast = Run(false, out var fastGrads);
        var plain = Run(true, out var plainGrads);
        Assert.True(fast.MelOutputsPostnet.allclose(plain.MelOutputsPostnet, rtol: 1e-5, atol: 1e-6));
        Assert.True(fast.GateOutputs.allclose(plain.GateOutputs, rtol: 1e-5, atol: 1e-6));
        Assert.True(fast.Alignments.allclose(plain.Alignments, rtol: 1e-5, atol: 1e-6));
        Assert.Equal(plainGrads.Keys, fastGrads.Keys);
        foreach (var (name, g) in plainGrads)
        {
            var f = fastGrads[name];
            Assert.True(g.Length > 0, name);
            var worst = g.Zip(f, (a, b) => Math.Abs(a - b) / (1e-4 + Math.Abs(a))).Max();
            Assert.True(worst < 1e-3, $"{name}: relative gradient difference {worst}");
        }
    }

    [Fact]
    public void Infer_GateAlwaysFires_StopsAfterFirstStepPerUtterance()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(4);
        using var model = new Tacotron2("tacotron2", ModelTestData.Tiny(2));
        SetGateBias(model, 50);
        var x = ModelTestData.Make(model.Options, new[] { 6, 4 }, new[] { 8, 8 });
        model.train();
        var y = model.Infer(x.Text, x.TextLengths);
        Assert.True(model.training);
        Assert.Equal(new[] { 2, 2 }, y.Lengths);
        Assert.Equal(new[] { false, false }, y.HitMaxSteps);
        Assert.Equal(new long[] { 2, 5, 2 }, y.MelOutputsPostnet.shape);
        Assert.Equal(new long[] { 2, 2 }, y.GateOutputs.shape);
        Assert.Equal(new long[] { 2, 1, 6 }, y.Alignments.shape);
    }

    [Fact]
    public void Infer_GateNeverFires_ReportsHitMaxSteps()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(5);
        using var model = new Tacotron2("tacotron2", ModelTestData.Tiny(1));
        SetGateBias(model, -50);
        var x = ModelTestData.Make(model.Options, new[] { 6, 4 }, new[] { 8, 8 });
        var y = model.Infer(x.Text, x.TextLengths, maxDecoderSteps: 7);
        Assert.Equal(new[] { 7, 7 }, y.Lengths);
        Assert.Equal(new[] { true, true }, y.HitMaxSteps);
        Assert.Equal(new long[] { 2, 5, 7 }, y.MelOutputs.shape);
        Assert.Equal(new long[] { 2, 7, 6 }, y.Alignments.shape);
    }

    [Fact]
    public void Infer_GateNeverFires_StepLimitFollowsTextLength()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(5);
        // r = 2, 3 frames per token: ⌈3·6/2⌉ = 9 and ⌈3·4/2⌉ = 6 steps, within the global 20.
        using var model = new Tacotron2("tacotron2", ModelTestData.Tiny(2) with { MaxFramesPerToken = 3, StallSteps = 0 });
        SetGateBias(model, -50);
        var x = ModelTestData.Make(model.Options, new[] { 6, 4 }, new[] { 8, 8 });
        var y = model.Infer(x.Text, x.TextLengths, maxDecoderSteps: 20);
        Assert.Equal(new[] { 18, 12 }, y.Lengths);
        Assert.Equal(new[] { StopReason.StepLimit, StopReason.StepLimit }, y.StoppedBy);
        Assert.Equal(new[] { true, true }, y.HitMaxSteps);
        Assert.Equal(new long[] { 2, 9, 6 }, y.Alignments.shape);
        Assert.Equal(5, Tacotron2.StepLimit(model.Options, 4, maxDecoderSteps: 5));
        Assert.Equal(20, Tacotron2.StepLimit(model.Options with { MaxFramesPerToken = 0 }, 4, maxDecoderSteps: 20));
    }

    [Fact]
    public void Infer_GateNeverFires_OneTokenText_StallEndsAfterStallSteps()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(5);
        // One token: the attention can only rest on it, so the detector fires after exactly 4 steps; nothing was spoken
        // before the end, so the estimated end is 1 step (r = 2 frames). The 5-token sentence next to it is unaffected
        // (it stalls or reaches the limit on its own).
        using var model = new Tacotron2("tacotron2", ModelTestData.Tiny(2) with { MaxFramesPerToken = 0, StallSteps = 4 });
        SetGateBias(model, -50);
        var x = ModelTestData.Make(model.Options, new[] { 1 }, new[] { 8 });
        var y = model.Infer(x.Text, x.TextLengths, maxDecoderSteps: 30);
        Assert.Equal(new[] { StopReason.Stall }, y.StoppedBy);
        Assert.Equal(new[] { 2 }, y.Lengths);
        Assert.Equal(new[] { false }, y.HitMaxSteps);
        Assert.Equal(4, y.Alignments.shape[1]);
        Assert.Equal(0f, y.MelOutputsPostnet[0, .., 2..].abs().max().item<float>());
    }

    [Fact]
    public void Infer_GateNeverFires_StallDetectorEndsWhereAttentionRests()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(5);
        using var model = new Tacotron2("tacotron2", ModelTestData.Tiny(1) with { MaxFramesPerToken = 0, StallSteps = 3, PrenetDropoutAlways = false });
        SetGateBias(model, -50);
        var x = ModelTestData.Make(model.Options, new[] { 5 }, new[] { 8 });
        var y = model.Infer(x.Text, x.TextLengths, maxDecoderSteps: 60);
        // Whatever this untrained attention does, the result must be what the Core detector says of its alignment.
        var (rows, steps, tokens) = (y.Alignments[0].contiguous().data<float>().ToArray(), (int)y.Alignments.shape[1], 5);
        var stall = AttentionStall.Scan(rows, steps, tokens, tokens, 3);
        if (stall.Stalled)
        {
            Assert.Equal(StopReason.Stall, y.StoppedBy[0]);
            Assert.Equal(stall.DetectedAt + 1, steps);
            Assert.Equal(stall.EstimatedEnd, y.Lengths[0]);
            Assert.False(y.HitMaxSteps[0]);
        }
        else
        {
            Assert.Equal(StopReason.StepLimit, y.StoppedBy[0]);
            Assert.Equal(60, steps);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_SeparateGate_GateLossTrainsTheGateLayerOnly(bool separate)
    {
        using var scope = NewDisposeScope();
        random.manual_seed(8);
        using var model = new Tacotron2("tacotron2", ModelTestData.Tiny(2) with { SeparateGate = separate });
        model.train();
        var x = ModelTestData.Make(model.Options, new[] { 6, 4 }, new[] { 9, 6 });
        ModelTestData.Loss(model, x).Gate.backward();
        var grads = ModelTestData.Gradients(model);
        Assert.Contains(grads["decoder.gate_layer.linear_layer.weight"], g => g != 0);
        foreach (var name in new[] { "decoder.decoder_rnn.weight_hh", "decoder.attention_rnn.weight_ih", "embedding.weight" })
        {
            Assert.Equal(!separate, grads[name].Any(g => g != 0));
        }
    }

    [Fact]
    public void Infer_Batch_EqualsEachUtteranceAloneWithinItsLength()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(6);
        using var model = new Tacotron2("tacotron2", ModelTestData.Tiny(1) with { PrenetDropoutAlways = false, GateThreshold = 0.45 });
        var x = ModelTestData.Make(model.Options, new[] { 7, 4 }, new[] { 8, 8 });
        var both = model.Infer(x.Text, x.TextLengths, maxDecoderSteps: 12);
        for (var i = 0; i < 2; i++)
        {
            var n = (int)x.TextLengths[i].item<long>();
            var alone = model.Infer(x.Text[i..(i + 1), ..n], x.TextLengths[i..(i + 1)], maxDecoderSteps: 12);
            Assert.Equal(alone.Lengths[0], both.Lengths[i]);
            Assert.Equal(alone.HitMaxSteps[0], both.HitMaxSteps[i]);
            var length = alone.Lengths[0];
            Assert.True(both.MelOutputsPostnet[i, .., ..length].allclose(alone.MelOutputsPostnet[0], rtol: 1e-4, atol: 1e-5));
            if (length < both.MelOutputsPostnet.shape[2])
            {
                Assert.Equal(0f, both.MelOutputsPostnet[i, .., length..].abs().max().item<float>());
            }
        }
    }

    [Fact]
    public void Infer_TrainedPosWeight_StopsWhereTheEquivalentRawThresholdStops()
    {
        // A gate trained with pos_weight w stops where sigmoid(logit − ln w) > threshold, i.e. at the raw threshold
        // sigmoid(logit(threshold) + ln w): the same weights, two spellings of one decision.
        using var scope = NewDisposeScope();
        random.manual_seed(6);
        var calibrated = ModelTestData.Tiny(1) with { PrenetDropoutAlways = false, GateThreshold = 0.3, TrainedGatePosWeight = 2.5 };
        double raw = 1 / (1 + Math.Exp(-(Math.Log(0.3 / 0.7) + Math.Log(2.5))));
        using var a = new Tacotron2("tacotron2", calibrated);
        using var b = new Tacotron2("tacotron2", calibrated with { GateThreshold = raw, TrainedGatePosWeight = 1 });
        b.load_state_dict(a.state_dict());
        var x = ModelTestData.Make(a.Options, new[] { 7, 4, 5 }, new[] { 8, 8, 8 });
        var first = a.Infer(x.Text, x.TextLengths, maxDecoderSteps: 16);
        var second = b.Infer(x.Text, x.TextLengths, maxDecoderSteps: 16);
        Assert.Equal(first.Lengths, second.Lengths);
        // and a higher pos_weight never stops earlier
        using var c = new Tacotron2("tacotron2", calibrated with { TrainedGatePosWeight = 25 });
        c.load_state_dict(a.state_dict());
        var later = c.Infer(x.Text, x.TextLengths, maxDecoderSteps: 16);
        Assert.All(Enumerable.Range(0, 3), i => Assert.True(later.Lengths[i] >= first.Lengths[i]));
    }

    [Fact]
    public void ReinitializeAttention_ChangesOnlyAttentionParameters_DeterministicBySeed()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(8);
        using var model = new Tacotron2("tacotron2", ModelTestData.Tiny());
        var before = Snapshot(model);
        random.manual_seed(99);
        var expectedNext = rand(3).data<float>().ToArray();
        random.manual_seed(99);
        model.ReinitializeAttention(seed: 11);
        Assert.Equal(expectedNext, rand(3).data<float>().ToArray()); // the global stream is untouched
        var first = Snapshot(model);
        model.ReinitializeAttention(seed: 11);
        var second = Snapshot(model);
        foreach (var (name, values) in before)
        {
            var attention = name.StartsWith("decoder.attention_rnn.", StringComparison.Ordinal)
                            || name.StartsWith("decoder.attention_layer.", StringComparison.Ordinal);
            if (attention)
            {
                Assert.NotEqual(values, first[name]);
            }
            else
            {
                Assert.Equal(values, first[name]);
            }

            Assert.Equal(first[name], second[name]);
        }

        Assert.Equal(9, before.Keys.Count(k => k.StartsWith("decoder.attention_", StringComparison.Ordinal)));
    }

    private static Dictionary<string, float[]> Snapshot(Tacotron2 model) =>
        model.named_parameters().ToDictionary(p => p.name, p => p.parameter.data<float>().ToArray());

    private static void SetGateBias(Tacotron2 model, float value)
    {
        using var _ = no_grad();
        var p = model.named_parameters().Single(p => p.name == "decoder.gate_layer.linear_layer.bias").parameter;
        p.fill_(value);
        model.named_parameters().Single(p => p.name == "decoder.gate_layer.linear_layer.weight").parameter.zero_();
    }
}
