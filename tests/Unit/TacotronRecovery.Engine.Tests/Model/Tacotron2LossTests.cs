using TacotronRecovery.Engine.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Tests.Model;

[Collection("torch")]
public class Tacotron2LossTests
{
    [Fact]
    public void GateTargets_Lengths_OneFromLastValidFrameOn()
    {
        using var scope = NewDisposeScope();
        var g = Batching.GateTargets(tensor(new long[] { 3, 5 }), 6);
        Assert.Equal(new float[] { 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1 }, g.data<float>().ToArray());
    }

    [Fact]
    public void GateTargets_R2_WholeLastStepIsOne()
    {
        using var scope = NewDisposeScope();
        // Lengths 4 and 5 with r = 2: the last step holds frames 2–3 and 4–5; its every frame is 1, so the one logit
        // of a step never gets targets 0 and 1 (the old rule gave frame 2 of length 4 a 0).
        var g = Batching.GateTargets(tensor(new long[] { 4, 5 }), 6, 2);
        Assert.Equal(new float[] { 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1 }, g.data<float>().ToArray());
        Assert.Equal(2, Batching.FirstStopFrame(4, 2));
        Assert.Equal(4, Batching.FirstStopFrame(5, 2));
        Assert.Equal(4, Batching.FirstStopFrame(5, 1));
    }

    [Fact]
    public void Compute_R2_GateLossPerValidStep()
    {
        using var scope = NewDisposeScope();
        // One utterance of 3 frames, r = 2, padded to 4: steps {0,1} and {2,pad}; targets per step 0 and 1. Logits 0
        // everywhere: loss = (ln2 + 3·ln2) / 2 valid steps with positive weight 3.
        var lengths = tensor(new long[] { 3 });
        var gateTargets = Batching.GateTargets(lengths, 4, 2);
        var output = new Tacotron2Output(zeros(1, 2, 4), zeros(1, 2, 4), zeros(1, 4), full(1, 2, 2, 0.5f));
        var c = new Tacotron2Loss(3.0, 0.2).Compute(output, zeros(1, 2, 4), gateTargets, lengths, tensor(new long[] { 2 }), 0.0, 2);
        Assert.Equal((float)(4 * Math.Log(2) / 2), c.Gate.item<float>(), 5);
    }

    [Fact]
    public void GuidedAttention_PerfectDiagonal_IsZero_AntiDiagonalIsLarge()
    {
        using var scope = NewDisposeScope();
        var loss = new Tacotron2Loss(1.0, 0.2);
        // Two utterances, T = N = 6 and T = N = 4 (padded to 6): A[t, t] = 1.
        var diag = zeros(2, 6, 6);
        var anti = zeros(2, 6, 6);
        foreach (var (b, len) in new[] { (0, 6), (1, 4) })
        {
            for (var t = 0; t < len; t++)
            {
                diag[b, t, t] = tensor(1f);
                anti[b, t, len - 1 - t] = tensor(1f);
            }

            // Rows beyond the length hold junk that must not count.
            for (var t = len; t < 6; t++)
            {
                diag[b, t, 0] = tensor(1f);
            }
        }

        var melLengths = tensor(new long[] { 6, 4 });
        var textLengths = tensor(new long[] { 6, 4 });
        var d = loss.GuidedAttention(diag, melLengths, textLengths, 1).item<float>();
        var a = loss.GuidedAttention(anti, melLengths, textLengths, 1).item<float>();
        Assert.Equal(0f, d, 6);
        // Anti-diagonal: W = 1 − exp(−((L−1−2t)/L)²/0.08) per valid row, mean over 36 + 16 cells.
        double expected = 0;
        foreach (var len in new[] { 6, 4 })
        {
            for (var t = 0; t < len; t++)
            {
                var x = (len - 1 - 2.0 * t) / len;
                expected += 1 - Math.Exp(-x * x / 0.08);
            }
        }

        Assert.Equal(expected / 52, a, 5);
        Assert.True(a > 0.1);
    }

    [Fact]
    public void GuidedAttention_R2_UsesCeilFramesOverR()
    {
        using var scope = NewDisposeScope();
        var loss = new Tacotron2Loss(1.0, 0.2);
        // 7 frames with r = 2 → 4 decoder steps over 4 tokens: diagonal is zero, a junk 5th row is ignored.
        var a = zeros(1, 5, 4);
        for (var t = 0; t < 4; t++)
        {
            a[0, t, t] = tensor(1f);
        }

        a[0, 4, 0] = tensor(1f);
        Assert.Equal(0f, loss.GuidedAttention(a, tensor(new long[] { 7 }), tensor(new long[] { 4 }), 2).item<float>(), 6);
    }

    [Fact]
    public void Compute_KnownOutputs_MatchesHandComputedMaskedMeans()
    {
        using var scope = NewDisposeScope();
        // B = 2, nMels = 2, T = 3; lengths 3 and 1. Mel error 1 on valid cells, 100 on padding.
        var targets = zeros(2, 2, 3);
        var mel = ones(2, 2, 3);
        mel[1, .., 1..] = tensor(100f);
        var post = mel.mul(2); // error 2 on valid cells
        var lengths = tensor(new long[] { 3, 1 });
        var gateTargets = Batching.GateTargets(lengths, 3);
        var gate = zeros(2, 3);
        var align = full(2, 3, 2, 0.5f);
        var output = new Tacotron2Output(mel, post, gate, align);
        var c = new Tacotron2Loss(4.0, 0.2).Compute(output, targets, gateTargets, lengths, tensor(new long[] { 2, 2 }), 10.0, 1);
        Assert.Equal(1f, c.Mel.item<float>(), 6);
        Assert.Equal(4f, c.MelPostnet.item<float>(), 6);
        // Valid frames: [0,0,1] and [1] → positives weighted 4: (2·ln2 + 2·4·ln2) / 4.
        Assert.Equal((float)(10 * Math.Log(2) / 4), c.Gate.item<float>(), 5);
        var ga = c.GuidedAttention.item<float>();
        Assert.Equal(c.Mel.item<float>() + c.MelPostnet.item<float>() + c.Gate.item<float>() + 10 * ga, c.Total.item<float>(), 4);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Compute_PadValuesChanged_IdenticalLossesAndGradients(int r)
    {
        using var scope = NewDisposeScope();
        var options = ModelTestData.Tiny(r);
        random.manual_seed(21);
        using var model = new Tacotron2("tacotron2", options);
        model.train();
        var textLengths = new[] { 9, 5, 3 };
        var melLengths = new[] { 13, 9, 6 };

        (float[] Losses, Dictionary<string, float[]> Grads) Run(ModelTestData.Batch x)
        {
            model.zero_grad();
            random.manual_seed(5); // same dropout masks in both runs
            var c = ModelTestData.Loss(model, x, gaWeight: 3.0);
            c.Total.backward();
            var losses = new[] { c.Mel, c.MelPostnet, c.Gate, c.GuidedAttention, c.Total }.Select(t => t.item<float>()).ToArray();
            return (losses, ModelTestData.Gradients(model));
        }

        var clean = Run(ModelTestData.Make(options, textLengths, melLengths, padId: 0, padMel: 0f));
        var dirty = Run(ModelTestData.Make(options, textLengths, melLengths, padId: 7, padMel: 5.5f));

        Assert.Equal(clean.Losses, dirty.Losses);
        foreach (var (name, g) in clean.Grads)
        {
            var d = dirty.Grads[name];
            var worst = g.Zip(d, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(worst <= 1e-6 * (1 + g.Max(Math.Abs)), $"{name}: gradient differs by {worst}");
        }
    }

    [Fact]
    public void Compute_ExtraPaddingInEvalMode_IdenticalLossesAndGradients()
    {
        // Extra pad columns change tensor shapes (and so dropout masks), hence evaluation mode without dropout here.
        using var scope = NewDisposeScope();
        var options = ModelTestData.Tiny(2) with { PrenetDropoutAlways = false };
        random.manual_seed(22);
        using var model = new Tacotron2("tacotron2", options);
        model.eval();
        var textLengths = new[] { 9, 5, 3 };
        var melLengths = new[] { 13, 9, 6 };

        (float[] Losses, Dictionary<string, float[]> Grads) Run(ModelTestData.Batch x)
        {
            model.zero_grad();
            var c = ModelTestData.Loss(model, x, gaWeight: 3.0);
            c.Total.backward();
            var losses = new[] { c.Mel, c.MelPostnet, c.Gate, c.GuidedAttention, c.Total }.Select(t => t.item<float>()).ToArray();
            return (losses, ModelTestData.Gradients(model));
        }

        var clean = Run(ModelTestData.Make(options, textLengths, melLengths));
        var dirty = Run(ModelTestData.Make(options, textLengths, melLengths, padId: 3, padMel: -7f, extraTextPad: 4, extraMelPad: 6));
        for (var i = 0; i < clean.Losses.Length; i++)
        {
            Assert.Equal(clean.Losses[i], dirty.Losses[i], 5);
        }

        foreach (var (name, g) in clean.Grads)
        {
            var d = dirty.Grads[name];
            var worst = g.Zip(d, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(worst <= 1e-5 * (1 + g.Max(Math.Abs)), $"{name}: gradient differs by {worst}");
        }
    }

    [Fact]
    public void Compute_OneBatchOverfit_TotalLossFallsTenfold()
    {
        using var threads = ModelTestData.SingleThread();
        using var scope = NewDisposeScope();
        random.manual_seed(31);
        var options = ModelTestData.Tiny(2) with
        {
            PrenetDropout = 0, EncoderDropout = 0, PostnetDropout = 0, PAttentionDropout = 0, PDecoderDropout = 0,
        };
        using var model = new Tacotron2("tacotron2", options);
        model.train();
        var x = ModelTestData.Make(options, new[] { 8, 6, 5 }, new[] { 16, 12, 10 });
        using var adam = optim.Adam(model.parameters(), lr: 3e-3);
        float first = 0, last = 0;
        for (var step = 0; step < 300; step++)
        {
            using var stepScope = NewDisposeScope();
            adam.zero_grad();
            var c = ModelTestData.Loss(model, x, gaWeight: 1.0);
            c.Total.backward();
            nn.utils.clip_grad_norm_(model.parameters(), 1.0);
            adam.step();
            last = c.Total.item<float>();
            if (step == 0)
            {
                first = last;
            }
        }

        Assert.True(float.IsFinite(last));
        Assert.True(last * 10 <= first, $"loss fell from {first} to {last} only");
    }
}
