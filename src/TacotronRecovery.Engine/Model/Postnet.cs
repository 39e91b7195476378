using TacotronRecovery.Core.Config;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TacotronRecovery.Engine.Model;

/// <summary>
/// The reference postnet: <c>PostnetNConvolutions</c> × (ConvNorm k + BatchNorm1d), tanh after all but the last, dropout
/// after each. Keys: <c>convolutions.{i}.0.conv.*</c>, <c>convolutions.{i}.1.*</c>.
/// Frames beyond each length are zeroed before every convolution (padding never reaches valid frames).
/// </summary>
public sealed class Postnet : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<Sequential> convolutions;
    private readonly double _dropout;

    public Postnet(string name, ModelOptions o) : base(name)
    {
        if (o.PostnetNConvolutions < 2)
        {
            throw new ArgumentException($"model.postnet_n_convolutions must be at least 2, got {o.PostnetNConvolutions}.");
        }

        var n = o.PostnetNConvolutions;
        convolutions = new ModuleList<Sequential>();
        for (var i = 0; i < n; i++)
        {
            long inDim = i == 0 ? o.NMelChannels : o.PostnetEmbeddingDim;
            long outDim = i == n - 1 ? o.NMelChannels : o.PostnetEmbeddingDim;
            var gain = i < n - 1 ? InitGain.Tanh : InitGain.Linear;
            convolutions.Add(ConvNorm.WithBatchNorm(inDim, outDim, o.PostnetKernelSize, gain));
        }

        _dropout = o.PostnetDropout;
        RegisterComponents();
    }

    /// <summary>x [B, nMels, T], frameMask [B, 1, T] (1 valid, 0 padding, x's dtype) → residual [B, nMels, T].</summary>
    public override Tensor forward(Tensor x, Tensor frameMask)
    {
        for (var i = 0; i < convolutions.Count; i++)
        {
            x = convolutions[i].call(x.mul(frameMask));
            if (i < convolutions.Count - 1)
            {
                x = x.tanh();
            }

            x = F.dropout(x, _dropout, training);
        }

        return x;
    }
}
