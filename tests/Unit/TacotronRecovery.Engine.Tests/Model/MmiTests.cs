using TacotronRecovery.Engine.Model;
using TacotronRecovery.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Tests.Model;

/// <summary>The MMI pieces on their own: CTC recogniser, gradient-adaptive factor, frame dropout, mean mel.</summary>
[Collection("torch")]
public sealed class MmiTests
{
    [Fact]
    public void LogProbabilities_DecoderOutputs_TimeMajorSymbolsPlusBlank()
    {
        using var scope = NewDisposeScope();
        using var recognizer = new MmiRecognizer("mmi", 24, 12);
        recognizer.eval();
        var logProbs = recognizer.LogProbabilities(randn(3, 7, 24));
        Assert.Equal(new long[] { 7, 3, 13 }, logProbs.shape);
        Assert.Equal(12, recognizer.Blank);
        var sums = logProbs.exp().sum(2).data<float>().ToArray();
        Assert.All(sums, s => Assert.Equal(1f, s, 4));
    }

    [Fact]
    public void Loss_TinyBatch_FiniteWithFiniteGradients()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        using var recognizer = new MmiRecognizer("mmi", 8, 6);
        var outputs = randn(new long[] { 2, 9, 8 }, requires_grad: true);
        var text = tensor(new long[] { 1, 2, 3, 4, 5, 1, 2, 0, 0, 0 }, new long[] { 2, 5 });
        var loss = recognizer.Loss(outputs, text, tensor(new long[] { 9, 6 }), tensor(new long[] { 5, 2 }));
        Assert.Empty(loss.shape);
        var value = loss.item<float>();
        Assert.True(float.IsFinite(value) && value > 0, $"loss {value}");
        loss.backward();
        Assert.True(isfinite(outputs.grad!).all().item<bool>());
        // Frames beyond an utterance's steps get no gradient.
        Assert.Equal(0f, outputs.grad!.select(0, 1).narrow(0, 6, 3).abs().max().item<float>());
        Assert.All(recognizer.parameters(), p => Assert.True(isfinite(p.grad!).all().item<bool>()));
    }

    [Fact]
    public void Loss_TextLongerThanTheSteps_ZeroNotInfinite()
    {
        using var scope = NewDisposeScope();
        using var recognizer = new MmiRecognizer("mmi", 8, 6);
        // 2 steps cannot emit 4 symbols: CTC is infinite there; zero_infinity makes that utterance count 0.
        var loss = recognizer.Loss(randn(1, 2, 8), tensor(new long[] { 1, 2, 3, 4 }, new long[] { 1, 4 }),
            tensor(new long[] { 2 }), tensor(new long[] { 4 }));
        Assert.Equal(0f, loss.item<float>());
    }

    [Theory]
    [InlineData(new float[] { 1, -2 }, new float[] { 8, 0 }, 0.25)]  // the recogniser's gradient would dominate: scaled to the Tacotron's max
    [InlineData(new float[] { 1, -2 }, new float[] { 0.5f, -1 }, 1.0)] // smaller: unchanged
    [InlineData(new float[] { 1, -2 }, new float[] { 0, 0 }, 1.0)]
    public void Compute_MaxAbsRatio_CappedAtOne(float[] main, float[] aux, double expected)
    {
        using var scope = NewDisposeScope();
        Assert.Equal(expected, GradientAdaptiveFactor.Compute(tensor(main), tensor(aux)), 6);
    }

    [Fact]
    public void Compute_NonFiniteGradient_NaN()
    {
        using var scope = NewDisposeScope();
        Assert.True(double.IsNaN(GradientAdaptiveFactor.Compute(tensor(new[] { 1f }), tensor(new[] { float.NaN }))));
    }

    [Theory]
    [InlineData(4f, 0.25)]    // recogniser gradient max 8 vs Tacotron max 2: scaled by 0.25
    [InlineData(0.25f, 1.0)]  // max 0.5 < 2: unscaled
    public void Split_Backward_ScalesOnlyTheRecognizerBranch(float auxScale, double expectedFactor)
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 1f, 2f, 3f }, requires_grad: true);
        var gaf = new GradientAdaptiveFactor();
        var (tacotron, recognizer) = gaf.Split(x);
        Assert.Equal(x.data<float>().ToArray(), tacotron.data<float>().ToArray());
        Assert.Equal(x.data<float>().ToArray(), recognizer.data<float>().ToArray());
        var mainGrad = tensor(new[] { 1f, -2f, 0.5f });
        var auxGrad = tensor(new[] { 2f, 1f, -2f }).mul(auxScale);
        tacotron.mul(mainGrad).sum().add(recognizer.mul(auxGrad).sum()).backward();
        Assert.Equal(expectedFactor, gaf.Factor!.Value, 6);
        var expected = mainGrad.add(auxGrad.mul(expectedFactor)).data<float>().ToArray();
        var actual = x.grad!.data<float>().ToArray();
        for (int i = 0; i < 3; i++) Assert.Equal(expected[i], actual[i], 5);
    }

    [Fact]
    public void Split_NoGradient_IdentityWithoutFactor()
    {
        using var scope = NewDisposeScope();
        var gaf = new GradientAdaptiveFactor();
        var x = tensor(new[] { 1f, 2f });
        var (a, b) = gaf.Split(x);
        Assert.Same(x, a);
        Assert.Same(x, b);
        Assert.Null(gaf.Factor);
    }

    [Fact]
    public void Forward_WithFactor_DecoderOutputsAndUnchangedMels()
    {
        using var scope = NewDisposeScope();
        using var _ = ModelTestData.SingleThread();
        var o = ModelTestData.Tiny(2);
        using var model = new Tacotron2("tacotron2", o with { PrenetDropoutAlways = false });
        model.eval(); // no dropout: both forwards see the same randomness-free computation
        var x = ModelTestData.Make(o, new[] { 5, 3 }, new[] { 9, 6 });
        var plain = model.Forward(x.Text, x.TextLengths, x.Mels, x.MelLengths);
        Assert.Null(plain.DecoderOutputs);
        var withMmi = model.Forward(x.Text, x.TextLengths, x.Mels, x.MelLengths, new GradientAdaptiveFactor());
        Assert.Equal(new long[] { 2, 5, o.DecoderRnnDim }, withMmi.DecoderOutputs!.shape); // 10 frames / r = 5 steps
        Assert.Equal(plain.MelOutputsPostnet.data<float>().ToArray(), withMmi.MelOutputsPostnet.data<float>().ToArray());
    }

    [Fact]
    public void Apply_RateZero_ReturnsTheInputItself()
    {
        using var scope = NewDisposeScope();
        var mels = randn(2, 3, 6);
        Assert.Same(mels, FrameDropout.Apply(mels, zeros(3), tensor(new long[] { 6, 4 }), 0));
    }

    [Fact]
    public void Apply_RateOne_EveryValidFrameIsTheMeanMelAndPaddingStays()
    {
        using var scope = NewDisposeScope();
        var mels = randn(2, 3, 6);
        var mean = tensor(new[] { -1f, -2f, -3f });
        var original = mels.clone();
        var dropped = FrameDropout.Apply(mels, mean, tensor(new long[] { 6, 4 }), 1);
        for (int b = 0; b < 2; b++)
        for (int t = 0; t < 6; t++)
        {
            var frame = dropped.select(0, b).select(1, t).data<float>().ToArray();
            var expected = b == 1 && t >= 4 ? original.select(0, b).select(1, t).data<float>().ToArray() : new[] { -1f, -2f, -3f };
            Assert.Equal(expected, frame);
        }
        Assert.Equal(original.data<float>().ToArray(), mels.data<float>().ToArray()); // the targets are not touched
    }

    [Fact]
    public void Apply_RateThreeTenths_ReplacesAboutThatShareOfWholeFrames()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var mels = randn(4, 2, 500);
        var dropped = FrameDropout.Apply(mels, full(2, 7f), tensor(new long[] { 500, 500, 500, 500 }), 0.3);
        var replaced = dropped.eq(7f); // [4, 2, 500]
        Assert.Equal(replaced.select(1, 0).data<bool>().ToArray(), replaced.select(1, 1).data<bool>().ToArray()); // whole frames, every channel
        var share = replaced.select(1, 0).to_type(ScalarType.Float32).mean().item<float>();
        Assert.InRange(share, 0.27f, 0.33f);
    }

    [Fact]
    public void Apply_RateOutOfRange_Throws()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentOutOfRangeException>(() => FrameDropout.Apply(zeros(1, 2, 2), zeros(2), tensor(new long[] { 2 }), 1.5));
        Assert.Throws<ArgumentException>(() => FrameDropout.Apply(zeros(1, 2, 2), zeros(3), tensor(new long[] { 2 }), 0.5));
    }

    [Fact]
    public void MeanOf_Examples_MeanOverEveryFramePerChannel()
    {
        using var scope = NewDisposeScope();
        // Channel-major: u1 has 2 frames (c0: 1, 3; c1: 10, 30), u2 one frame (c0: 5; c1: 50).
        var examples = new[]
        {
            new TrainingExample("u1", new[] { 1 }, new Core.Audio.Mel(2, 2, new[] { 1f, 3f, 10f, 30f })),
            new TrainingExample("u2", new[] { 1 }, new Core.Audio.Mel(2, 1, new[] { 5f, 50f })),
        };
        Assert.Equal(new[] { 3f, 30f }, MmiTraining.MeanOf(examples, 2).data<float>().ToArray());
    }
}
