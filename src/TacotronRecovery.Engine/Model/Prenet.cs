using TacotronRecovery.Core.Config;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TacotronRecovery.Engine.Model;

/// <summary>
/// The reference prenet: 2 × (LinearNorm without bias + ReLU + dropout). Dropout is on in training and, when
/// <see cref="ModelOptions.PrenetDropoutAlways"/> (the reference's behaviour), also in evaluation and inference.
/// Keys: <c>layers.{i}.linear_layer.weight</c>. Works on any leading shape [..., inDim].
/// </summary>
public sealed class Prenet : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<LinearNorm> layers;
    private readonly double _dropout;
    private readonly bool _always;

    public Prenet(string name, long inDim, IReadOnlyList<long> sizes, double dropout, bool dropoutAlways) : base(name)
    {
        layers = new ModuleList<LinearNorm>();
        var prev = inDim;
        for (var i = 0; i < sizes.Count; i++)
        {
            layers.Add(new LinearNorm(i.ToString(System.Globalization.CultureInfo.InvariantCulture), prev, sizes[i], bias: false));
            prev = sizes[i];
        }

        _dropout = dropout;
        _always = dropoutAlways;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        foreach (var layer in layers)
        {
            x = F.dropout(F.relu(layer.call(x)), _dropout, _always || training);
        }

        return x;
    }
}
