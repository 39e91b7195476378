using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Model;

/// <summary>Xavier gains of the reference's <c>w_init_gain</c> names (torch.nn.init.calculate_gain).</summary>
public static class InitGain
{
    public const double Linear = 1.0;
    public const double Sigmoid = 1.0;
    public const double Tanh = 5.0 / 3.0;
    public static readonly double Relu = Math.Sqrt(2.0);
}

/// <summary>The reference's LinearNorm: a Linear whose weight is Xavier-uniform with a gain. Key: <c>linear_layer.*</c>.</summary>
public sealed class LinearNorm : nn.Module<Tensor, Tensor>
{
    private readonly Linear linear_layer;
    private readonly double _gain;
    private readonly string _name;

    public LinearNorm(string name, long inDim, long outDim, bool bias = true, double gain = InitGain.Linear) : base(name)
    {
        linear_layer = nn.Linear(inDim, outDim, hasBias: bias);
        _gain = gain;
        _name = name;
        ResetParameters();
        RegisterComponents();
    }

    public Tensor Weight => linear_layer.weight!;

    public Tensor? Bias => linear_layer.bias;

    /// <summary>F.linear, in the product dtype of <see cref="MixedPrecision"/> when a scope is active.</summary>
    public override Tensor forward(Tensor input) => MixedPrecision.Linear(_name, input, linear_layer.weight!, linear_layer.bias);

    /// <summary>Xavier-uniform weight with the layer's gain; bias uniform(±1/√fan_in) as PyTorch's default.</summary>
    public void ResetParameters()
    {
        using var _ = no_grad();
        nn.init.xavier_uniform_(linear_layer.weight!, _gain);
        if (linear_layer.bias is { } b)
        {
            var bound = 1.0 / Math.Sqrt(linear_layer.weight!.shape[1]);
            nn.init.uniform_(b, -bound, bound);
        }
    }
}

/// <summary>The reference's ConvNorm: a same-padded Conv1d, Xavier-uniform weight with a gain. Key: <c>conv.*</c>.</summary>
public sealed class ConvNorm : nn.Module<Tensor, Tensor>
{
    private readonly Conv1d conv;
    private readonly double _gain;

    public ConvNorm(string name, long inChannels, long outChannels, long kernelSize = 1, bool bias = true,
        double gain = InitGain.Linear) : base(name)
    {
        if (kernelSize % 2 != 1)
        {
            throw new ArgumentException($"Convolution kernel size must be odd (same padding), got {kernelSize}.", nameof(kernelSize));
        }

        conv = nn.Conv1d(inChannels, outChannels, kernelSize, padding: (kernelSize - 1) / 2, bias: bias);
        _gain = gain;

        ResetParameters();
        RegisterComponents();
    }

    public Tensor Weight => conv.weight!;

    public override Tensor forward(Tensor input) => conv.call(input);

    /// <summary>The reference's conv block of the encoder and the postnet: keys <c>0.conv.*</c> (ConvNorm) and <c>1.*</c> (BatchNorm1d).</summary>
    public static Sequential WithBatchNorm(long inChannels, long outChannels, long kernelSize, double gain) =>
        nn.Sequential(
            ("0", (nn.Module<Tensor, Tensor>)new ConvNorm("conv", inChannels, outChannels, kernelSize, gain: gain)),
            ("1", new BatchNorm1d(outChannels)));

    /// <summary>Xavier-uniform weight with the layer's gain; bias uniform(±1/√fan_in) as PyTorch's default.</summary>
    public void ResetParameters()
    {
        using var _ = no_grad();
        nn.init.xavier_uniform_(conv.weight!, _gain);
        if (conv.bias is { } b)
        {
            var fanIn = conv.weight!.shape[1] * conv.weight!.shape[2];
            var bound = 1.0 / Math.Sqrt(fanIn);
            nn.init.uniform_(b, -bound, bound);
        }
    }
}
