using TacotronRecovery.Engine.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using BatchNorm1d = TacotronRecovery.Engine.Model.BatchNorm1d;

namespace TacotronRecovery.Engine.Tests.Training;

/// <summary>
/// The engine's Adam, AdamW and BatchNorm1d keep their Scalars alive (docs/engine.md, "Temporary Scalars") and must
/// otherwise be TorchSharp's: same weights after steps, bit for bit; same state dicts.
/// </summary>
[Collection("torch")]
public sealed class OptimizersTests
{
    [Theory]
    [InlineData("adam", 0.0)]
    [InlineData("adam", 1e-2)]
    [InlineData("adamw", 1e-2)]
    public void ScalarSafeOptimizer_AfterSteps_EqualsTorchSharpBitForBit(string name, double weightDecay)
    {
        using var scope = NewDisposeScope();
        var g = new Generator(5);
        var init = randn(new long[] { 7, 3 }, generator: g);
        var grads = Enumerable.Range(0, 4).Select(_ => randn(new long[] { 7, 3 }, generator: g)).ToArray();
        var ours = new Parameter(init.clone());
        var theirs = new Parameter(init.clone());
        using var safe = Optimizers.Create(name, new[] { ours }, 1e-2, weightDecay);
        using OptimizerHelper reference = name == "adamw"
            ? optim.AdamW(new[] { theirs }, 1e-2, weight_decay: weightDecay)
            : optim.Adam(new[] { theirs }, 1e-2, weight_decay: weightDecay);
        foreach (var grad in grads)
        {
            ours.grad = grad.clone();
            theirs.grad = grad.clone();
            safe.step();
            reference.step();
        }

        Assert.Equal(theirs.detach().data<float>().ToArray(), ours.detach().data<float>().ToArray());
        Assert.NotEqual(init.data<float>().ToArray(), ours.detach().data<float>().ToArray());
    }

    [Fact]
    public void BatchNorm1d_TrainAndEval_EqualsTorchSharpsWithTheSameStateDict()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(9);
        using var ours = new BatchNorm1d(4);
        using var theirs = nn.BatchNorm1d(4);
        Assert.Equal(theirs.state_dict().Keys, ours.state_dict().Keys);
        for (int i = 0; i < 3; i++)
        {
            var x = randn(new long[] { 2, 4, 5 }, generator: g);
            Assert.Equal(Values(theirs.call(x)), Values(ours.call(x)));
        }

        Assert.Equal(3L, ours.num_batches_tracked!.item<long>());
        Assert.Equal(Values(theirs.running_mean!), Values(ours.running_mean!));
        Assert.Equal(Values(theirs.running_var!), Values(ours.running_var!));
        ours.eval();
        theirs.eval();
        var y = randn(new long[] { 2, 4, 5 }, generator: g);
        Assert.Equal(Values(theirs.call(y)), Values(ours.call(y)));
    }

    private static float[] Values(Tensor t) => t.detach().contiguous().data<float>().ToArray();
}
