using TacotronRecovery.Core.Config;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TacotronRecovery.Engine.Model;

/// <summary>
/// The reference encoder: <c>EncoderNConvolutions</c> × (ConvNorm k + BatchNorm1d + ReLU + dropout) and a BiLSTM
/// (EncoderEmbeddingDim / 2 per direction) over packed sequences.
/// Keys: <c>convolutions.{i}.0.conv.weight|bias</c>, <c>convolutions.{i}.1.{weight,bias,running_mean,running_var,num_batches_tracked}</c>,
/// <c>lstm.{weight_ih,weight_hh,bias_ih,bias_hh}_l0[_reverse]</c>.
/// Unlike the reference, positions beyond a text's length are zeroed before every convolution, so padding values never
/// reach valid outputs, losses or gradients (identical to the reference on unpadded batches).
/// </summary>
public sealed class Encoder : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<Sequential> convolutions;
    private readonly LSTM lstm;
    private readonly double _dropout;

    public Encoder(string name, ModelOptions o) : base(name)
    {
        var d = o.EncoderEmbeddingDim;
        if (o.SymbolsEmbeddingDim != d)
        {
            throw new ArgumentException(
                $"model.symbols_embedding_dim ({o.SymbolsEmbeddingDim}) must equal model.encoder_embedding_dim ({d}), as in the reference.");
        }

        convolutions = new ModuleList<Sequential>();
        for (var i = 0; i < o.EncoderNConvolutions; i++)
        {
            convolutions.Add(ConvNorm.WithBatchNorm(d, d, o.EncoderKernelSize, InitGain.Relu));
        }

        lstm = nn.LSTM(d, d / 2, numLayers: 1, bias: true, batchFirst: true, bidirectional: true);
        _dropout = o.EncoderDropout;
        RegisterComponents();
    }

    /// <summary>x [B, E, N] embedded text, lengths [B] int64 → [B, N, E] (zeros beyond each length).</summary>
    public override Tensor forward(Tensor x, Tensor lengths)
    {
        var n = x.shape[2];
        var mask = Masks.Valid(lengths, n).unsqueeze(1).to_type(x.dtype);
        foreach (var conv in convolutions)
        {
            x = F.dropout(F.relu(conv.call(x.mul(mask))), _dropout, training);
        }

        // Small per-step tensors: the LSTM runs on one thread, forward and backward (SerialSection).
        return SerialSection.Around(x.transpose(1, 2), input =>
        {
            using var packed = nn.utils.rnn.pack_padded_sequence(input, lengths.cpu(), batch_first: true, enforce_sorted: false);
            var (output, _, _) = lstm.call(packed);
            using (output)
            {
                return nn.utils.rnn.pad_packed_sequence(output, batch_first: true, total_length: n).Item1;
            }
        });
    }
}
