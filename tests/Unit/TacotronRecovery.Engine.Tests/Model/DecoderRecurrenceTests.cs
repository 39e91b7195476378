using TacotronRecovery.Engine.Model;
using Xunit;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TacotronRecovery.Engine.Tests.Model;

/// <summary>
/// The hand-differentiated recurrences of the fast decoder against the same mathematics written step by step with
/// autograd, in float64, with dropout masks and gradients arriving at every output.
/// </summary>
[Collection("torch")]
public sealed class DecoderRecurrenceTests
{
    private const long B = 3, T = 6, H = 5, N = 7, E = 4, A = 3, K = 5;

    [Fact]
    public void LstmRecurrence_WithDropoutMasks_EqualsAutogradSteps()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(11);
        var inputGates = Random(g, T, B, 4 * H);
        var weight = Random(g, 4 * H, H);
        var masks = DropoutMasks(g, T, B, H);
        var upstream = randn(new[] { T, B, H }, dtype: ScalarType.Float64, generator: g);

        var fast = LstmRecurrence.Apply(inputGates, weight, masks);
        fast.mul(upstream).sum().backward();
        var (dInputFast, dWeightFast) = (inputGates.grad!.clone(), weight.grad!.clone());
        inputGates.grad!.zero_();
        weight.grad!.zero_();

        var h = zeros(B, H, dtype: ScalarType.Float64);
        var c = zeros_like(h);
        var outputs = new Tensor[T];
        for (var t = 0; t < T; t++)
        {
            (h, c) = Cell(inputGates[t] + h.mm(weight.t()), c);
            h = h * masks[t];
            outputs[t] = h;
        }

        var plain = stack(outputs);
        plain.mul(upstream).sum().backward();
        Assert.True(fast.allclose(plain, rtol: 1e-10, atol: 1e-12));
        Assert.True(dInputFast.allclose(inputGates.grad!, rtol: 1e-9, atol: 1e-12));
        Assert.True(dWeightFast.allclose(weight.grad!, rtol: 1e-9, atol: 1e-12));
    }

    [Fact]
    public void AttentionRecurrence_WithDropoutMasksAndPadding_EqualsAutogradStepsInEveryGradient()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(12);
        var preGates = Random(g, T, B, 4 * H);
        var memory = Random(g, B, N, E);
        var processed = Random(g, B, N, A);
        var recurrent = Random(g, 4 * H, E + H);
        var query = Random(g, A, H);
        var location = Random(g, A, 2 * K);
        var v = Random(g, 1, A);
        var inputs = new[] { preGates, memory, processed, recurrent, query, location, v };
        var padMask = Masks.Valid(tensor(new long[] { 7, 4, 6 }), N).logical_not();
        var masks = DropoutMasks(g, T, B, H);
        var up = new[]
        {
            randn(new[] { T, B, H }, dtype: ScalarType.Float64, generator: g),
            randn(new[] { T, B, E }, dtype: ScalarType.Float64, generator: g),
            randn(new[] { B, T, N }, dtype: ScalarType.Float64, generator: g),
        };

        var (fh, fc, fw) = AttentionRecurrence.Apply(preGates, memory, processed, recurrent, query, location, v, padMask, masks, K);
        (fh.mul(up[0]).sum() + fc.mul(up[1]).sum() + fw.mul(up[2]).sum()).backward();
        var fastGrads = inputs.Select(x => x.grad!.clone()).ToArray();
        foreach (var x in inputs) x.grad!.zero_();

        // The reference arrangement: conv1d over [previous, cumulative] with the fused kernel, [B, N, A] energies.
        var h = zeros(B, H, dtype: ScalarType.Float64);
        var c = zeros_like(h);
        var context = zeros(B, E, dtype: ScalarType.Float64);
        var w = zeros(B, N, dtype: ScalarType.Float64);
        var cumulative = zeros_like(w);
        var (hs, cs, ws) = (new Tensor[T], new Tensor[T], new Tensor[T]);
        for (var t = 0; t < T; t++)
        {
            (h, c) = Cell(preGates[t] + cat(new[] { context, h }, 1).mm(recurrent.t()), c);
            h = h * masks[t];
            var features = F.conv1d(stack(new[] { w, cumulative }, 1), location.view(A, 2, K), padding: (K - 1) / 2).transpose(1, 2);
            var energies = (processed + h.mm(query.t()).unsqueeze(1) + features).tanh().matmul(v.t()).squeeze(2);
            w = energies.masked_fill(padMask, double.NegativeInfinity).softmax(1);
            context = w.unsqueeze(1).bmm(memory).squeeze(1);
            cumulative = cumulative + w;
            (hs[t], cs[t], ws[t]) = (h, context, w);
        }

        var (ph, pc, pw) = (stack(hs), stack(cs), stack(ws, 1));
        (ph.mul(up[0]).sum() + pc.mul(up[1]).sum() + pw.mul(up[2]).sum()).backward();
        Assert.True(fh.allclose(ph, rtol: 1e-10, atol: 1e-12));
        Assert.True(fc.allclose(pc, rtol: 1e-10, atol: 1e-12));
        Assert.True(fw.allclose(pw, rtol: 1e-10, atol: 1e-12));
        var names = new[] { "preGates", "memory", "processed", "recurrent", "query", "location", "v" };
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.True(fastGrads[i].abs().sum().item<double>() > 0, names[i]);
            Assert.True(fastGrads[i].allclose(inputs[i].grad!, rtol: 1e-9, atol: 1e-12), names[i]);
        }
    }

    [Fact]
    public void LongLivedScalar_WhileTheGcRunsContinuously_NeverFails()
    {
        // TorchSharp frees a temporary Scalar in its finalizer, possibly while libtorch reads it (Model/Scalars.cs):
        // with a thread forcing collections, `x.add(y)` (alpha 1 as a temporary) failed with "Expected false to be
        // true … toFloat" within two seconds here, the error that aborted engines inside a backward function. The
        // recurrences pass Scalars.One instead; the same loop with it must never fail.
        using var x = ones(16, 64);
        using var y = ones(16, 64);
        var stop = false;
        var collector = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        });
        collector.Start();
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(3))
            {
                using var z = x.add(y, Scalars.One);
                using var w = z.add_(y, Scalars.One).add_(Scalars.One, Scalars.One);
                Assert.Equal(4f, w[0, 0].item<float>());
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            collector.Join();
        }
    }

    [Fact]
    public void Recurrences_WithoutGradient_ReturnTheSameOutputs()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(13);
        var inputGates = Random(g, T, B, 4 * H);
        var weight = Random(g, 4 * H, H);
        var withGrad = LstmRecurrence.Apply(inputGates, weight, null);
        using (no_grad())
        {
            Assert.True(LstmRecurrence.Apply(inputGates, weight, null).allclose(withGrad.detach(), rtol: 0, atol: 0));
        }
    }

    private static Tensor Random(Generator g, params long[] shape) =>
        (randn(shape, dtype: ScalarType.Float64, generator: g) * 0.5).requires_grad_();

    private static Tensor[] DropoutMasks(Generator g, long steps, long b, long h) =>
        (rand(new[] { steps, b, h }, dtype: ScalarType.Float64, generator: g) > 0.2).to_type(ScalarType.Float64).div(0.8).unbind(0);

    private static (Tensor H, Tensor C) Cell(Tensor gates, Tensor c)
    {
        var x = gates.chunk(4, 1);
        var c2 = x[1].sigmoid() * c + x[0].sigmoid() * x[2].tanh();
        return (x[3].sigmoid() * c2.tanh(), c2);
    }
}

/// <summary>One intra-op thread inside a serial section, forward and backward; the count restored after.</summary>
[Collection("torch")]
public sealed class SerialSectionTests
{
    [Fact]
    public void Around_ForwardAndBackward_OneThreadInsideAndTheCountRestoredAfter()
    {
        using var scope = NewDisposeScope();
        var before = get_num_threads();
        set_num_threads(2);
        try
        {
            var x = randn(4, 3).requires_grad_();
            var inside = new List<int>();
            var y = SerialSection.Around(x, v =>
            {
                inside.Add(get_num_threads());
                return v.mul(3).tanh();
            });
            Assert.Equal(new[] { 1 }, inside);
            Assert.Equal(2, get_num_threads());
            y.sum().backward();
            Assert.Equal(2, get_num_threads());
            var expected = x.detach().mul(3).tanh().square().neg().add(1).mul(3);
            Assert.True(x.grad!.allclose(expected, rtol: 1e-6, atol: 1e-7));
        }
        finally
        {
            set_num_threads(before);
        }
    }
}
