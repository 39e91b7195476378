using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TacotronRecovery.Engine.Model;

/// <summary>
/// Mixed precision by casting (TorchSharp 0.107 has no autocast): while a <see cref="Scope"/> is active on this thread,
/// the model's batched matrix products — prenet, the attention and decoder LSTMs' input projections for all steps, the
/// memory projection, the linear projection and gate — run with inputs and weights cast to <see cref="ProductType"/>
/// (bf16 or fp16), forward and backward; each product is cast back to fp32 at once. Parameters, gradients, optimizer
/// state, the hand-differentiated recurrences (per-step products of one batch), normalisation, softmax and losses stay
/// fp32, and so do the convolutions: in bf16 or fp16 on the CPU they would need oneDNN, whose convolution backward gave
/// wrong gradients on this project's machine (<see cref="Runtime.OneDnn"/>). On the CPU the products run with oneDNN switched on around them only
/// (<see cref="Runtime.OneDnn.ForProducts"/>; the engine keeps oneDNN off for convolutions). Without a scope every
/// helper calls the same fp32 operation as before, so the fp32 path is unchanged bit for bit.
/// </summary>
public static class MixedPrecision
{
    [ThreadStatic] private static ScalarType? _productType;
    [ThreadStatic] private static Action<string, ScalarType>? _observer;

    /// <summary>The dtype the products run in on this thread; null: fp32 (no scope, or a scope for fp32).</summary>
    public static ScalarType? ProductType => _productType;

    /// <summary>
    /// Runs the products in <paramref name="productType"/> until disposed (null or Float32: fp32, the helpers do nothing).
    /// Scopes nest; the previous setting comes back on dispose. Thread-static: a training step runs on one thread.
    /// </summary>
    public static Scope Enable(ScalarType? productType) => new(productType is ScalarType.Float32 ? null : productType);

    /// <summary>
    /// Tests: <paramref name="observer"/> sees (product name, dtype it ran in) for every product on this thread until
    /// disposed, fp32 ones included.
    /// </summary>
    internal static IDisposable Observe(Action<string, ScalarType> observer) => new Observer(observer);

    /// <summary>x·Wᵀ + b over the last dimension (F.linear), the product in the product dtype.</summary>
    public static Tensor Linear(string name, Tensor input, Tensor weight, Tensor? bias)
    {
        if (_productType is not ScalarType low)
        {
            Report(name, input.dtype);
            return F.linear(input, weight, bias);
        }

        Report(name, low);
        var shape = input.shape.ToArray();
        var rows = Product(input.reshape(-1, shape[^1]), weight.t(), low);
        shape[^1] = weight.shape[0];
        var output = rows.view(shape);
        return bias is null ? output : output.add(bias, Scalars.One);
    }

    /// <summary>bias + x·weightT (alpha = beta = 1), the product in the product dtype; bias broadcasts over the rows.</summary>
    public static Tensor Addmm(string name, Tensor bias, Tensor input, Tensor weightT)
    {
        if (_productType is not ScalarType low)
        {
            Report(name, input.dtype);
            return addmm(bias, input, weightT, 1, 1);
        }

        Report(name, low);
        return Product(input, weightT, low).add(bias, Scalars.One);
    }

    /// <summary>
    /// x [R, K] · wT [K, N] in <paramref name="low"/>, returned in x's dtype. Biases are added in fp32 by the callers
    /// (the sum of both LSTM biases keeps its precision). With gradients: one autograd node whose backward forms both
    /// gradients with products in <paramref name="low"/> too (as autocast does), returned in x's dtype.
    /// </summary>
    private static Tensor Product(Tensor input, Tensor weightT, ScalarType low)
    {
        if (is_grad_enabled() && (input.requires_grad || weightT.requires_grad))
            return LowPrecisionProduct.apply(input, weightT, low);
        using var x = input.to_type(low);
        using var w = weightT.to_type(low);
        using var _ = Runtime.OneDnn.ForProducts();
        using var product = x.mm(w);
        return product.to_type(input.dtype);
    }

    private static void Report(string name, ScalarType dtype) => _observer?.Invoke(name, dtype);

    /// <summary>The low-precision product as one autograd function (forward and backward products under oneDNN).</summary>
    private sealed class LowPrecisionProduct : torch.autograd.SingleTensorFunction<LowPrecisionProduct>
    {
        public override string Name => "LowPrecisionProduct";

        public override Tensor forward(torch.autograd.AutogradContext ctx, params object[] vars)
        {
            var input = (Tensor)vars[0];
            var weightT = (Tensor)vars[1];
            var low = (ScalarType)vars[2];
            var x = input.detach().to_type(low);
            var w = weightT.detach().to_type(low);
            ctx.save_data("x", x);
            ctx.save_data("w", w);
            ctx.save_data("dtype", input.dtype);
            using var _ = Runtime.OneDnn.ForProducts();
            using var product = x.mm(w);
            return product.to_type(input.dtype);
        }

        public override List<Tensor> backward(torch.autograd.AutogradContext ctx, Tensor gradOutput)
        {
            var x = (Tensor)ctx.get_data("x");
            var w = (Tensor)ctx.get_data("w");
            var dtype = (ScalarType)ctx.get_data("dtype");
            using var g = gradOutput.to_type(x.dtype);
            using var _ = Runtime.OneDnn.ForProducts();
            using var dx = g.mm(w.t());
            using var dw = x.t().mm(g);
            return new List<Tensor> { dx.to_type(dtype), dw.to_type(dtype), null! };
        }
    }

    /// <summary>Restores the previous product dtype on dispose.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly ScalarType? _previous;

        internal Scope(ScalarType? productType)
        {
            _previous = _productType;
            _productType = productType;
        }

        /// <inheritdoc />
        public void Dispose() => _productType = _previous;
    }

    private sealed class Observer : IDisposable
    {
        private readonly Action<string, ScalarType>? _previous;

        public Observer(Action<string, ScalarType> observer)
        {
            _previous = _observer;
            _observer = observer;
        }

        public void Dispose() => _observer = _previous;
    }
}
