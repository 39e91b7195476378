using TorchSharp;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Model;

/// <summary>
/// Location features of the reference: a Conv1d (2 → filters, kernel k, no bias) over [previous, cumulative] attention
/// weights, then a dense layer (filters → attention dim, no bias, tanh gain).
/// Keys: <c>location_conv.conv.weight</c>, <c>location_dense.linear_layer.weight</c>.
/// </summary>
public sealed class LocationLayer : nn.Module<Tensor, Tensor>
{
    private readonly ConvNorm location_conv;
    private readonly LinearNorm location_dense;

    public LocationLayer(string name, long nFilters, long kernelSize, long attentionDim) : base(name)
    {
        location_conv = new ConvNorm("location_conv", 2, nFilters, kernelSize, bias: false);
        location_dense = new LinearNorm("location_dense", nFilters, attentionDim, bias: false, gain: InitGain.Tanh);
        RegisterComponents();
    }

    /// <summary>weights [B, 2, N] → [B, attentionDim, N] (channel-first, unlike the reference's [B, N, A]; same values).</summary>
    public override Tensor forward(Tensor weightsCat) => location_dense.Weight.matmul(location_conv.call(weightsCat));

    /// <summary>Kernel size of the location convolution (odd).</summary>
    public long KernelSize => location_conv.Weight.shape[2];

    /// <summary>
    /// The conv and the dense layer as one linear map [attentionDim, 2·k] (dense · conv, both linear, no bias) over a
    /// window of [previous, cumulative] weights flattened channel-major; gradients flow back to both weights.
    /// </summary>
    public Tensor FusedWeight()
    {
        var conv = location_conv.Weight; // [F, 2, k]
        return location_dense.Weight.mm(conv.reshape(conv.shape[0], -1));
    }

    public void ResetParameters()
    {
        location_conv.ResetParameters();
        location_dense.ResetParameters();
    }
}

/// <summary>
/// Location-sensitive attention of the reference: energies v·tanh(W q + V m + U f), masked with −∞ beyond each text
/// length, softmax over tokens. Keys: <c>query_layer.linear_layer.weight</c>, <c>memory_layer.linear_layer.weight</c>,
/// <c>v.linear_layer.weight</c>, <c>location_layer.*</c>.
/// The memory projection is computed once per batch (<see cref="ProcessMemory"/>) in the channel-first layout [B, A, N]
/// that the per-step arithmetic uses.
/// </summary>
public sealed class Attention : nn.Module
{
    private readonly LinearNorm query_layer;
    private readonly LinearNorm memory_layer;
    private readonly LinearNorm v;
    private readonly LocationLayer location_layer;

    public Attention(string name, long rnnDim, long embeddingDim, long attentionDim, long nFilters, long kernelSize) : base(name)
    {
        query_layer = new LinearNorm("query_layer", rnnDim, attentionDim, bias: false, gain: InitGain.Tanh);
        memory_layer = new LinearNorm("memory_layer", embeddingDim, attentionDim, bias: false, gain: InitGain.Tanh);
        v = new LinearNorm("v", attentionDim, 1, bias: false);
        location_layer = new LocationLayer("location_layer", nFilters, kernelSize, attentionDim);
        RegisterComponents();
    }

    /// <summary>query_layer's weight [A, rnnDim].</summary>
    public Tensor QueryWeight => query_layer.Weight;

    /// <summary>v's weight [1, A].</summary>
    public Tensor EnergyWeight => v.Weight;

    /// <summary>The location layer (its fused weight and kernel size serve the fast decoder).</summary>
    public LocationLayer Location => location_layer;

    /// <summary>memory [B, N, E] → memory_layer(memory) [B, N, A], the reference's layout.</summary>
    public Tensor ProjectMemory(Tensor memory) => memory_layer.call(memory);

    /// <summary>memory [B, N, E] → processed memory [B, A, N].</summary>
    public Tensor ProcessMemory(Tensor memory) => memory_layer.call(memory).transpose(1, 2).contiguous();

    /// <summary>
    /// One attention step. query [B, rnnDim]; memory [B, N, E]; processedMemory [B, A, N]; previous and cumulative
    /// weights [B, N]; padMask [B, N] true beyond the length. Returns context [B, E] and weights [B, N].
    /// </summary>
    public (Tensor Context, Tensor Weights) Step(Tensor query, Tensor memory, Tensor processedMemory,
        Tensor previous, Tensor cumulative, Tensor padMask)
    {
        var location = location_layer.call(stack(new[] { previous, cumulative }, 1)); // [B, A, N]
        var hidden = location.add_(processedMemory, Scalars.One).add_(query_layer.call(query).unsqueeze(2), Scalars.One).tanh_();
        var energies = v.Weight.matmul(hidden).squeeze(1).masked_fill(padMask, Scalars.NegativeInfinity); // [B, N]
        var weights = energies.softmax(1);
        var context = weights.unsqueeze(1).bmm(memory).squeeze(1);
        return (context, weights);
    }

    /// <summary>Re-initialise every attention parameter as the constructor does (uses the global torch RNG).</summary>
    public void ResetParameters()
    {
        query_layer.ResetParameters();
        memory_layer.ResetParameters();
        v.ResetParameters();
        location_layer.ResetParameters();
    }
}
