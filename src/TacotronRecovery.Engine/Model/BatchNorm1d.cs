using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Model;

/// <summary>
/// TorchSharp's <c>BatchNorm1d</c> with a forward that keeps its Scalar alive: TorchSharp 0.107 counts batches with
/// <c>num_batches_tracked.add_(1)</c>, a temporary Scalar the GC may finalize while libtorch reads it (docs/engine.md,
/// "Temporary Scalars"). Same parameters, buffers, state-dict keys and arithmetic (momentum 0.1, eps 1e-5, affine,
/// running statistics tracked: <c>nn.BatchNorm1d</c>'s defaults).
/// </summary>
internal sealed class BatchNorm1d : BatchNorm
{
    public BatchNorm1d(long features)
        : base(features, eps: 1e-5, momentum: 0.1, affine: true, track_running_stats: true, device: null, dtype: null, name: "BatchNorm1d")
    {
    }

    public override Tensor forward(Tensor input)
    {
        ValidateInputDimensions(input);
        double factor = momentum ?? 0.0;
        if (training && track_running_stats && num_batches_tracked is { } tracked)
        {
            tracked.add_(Scalars.OneInt64, Scalars.OneInt64);
            factor = momentum ?? 1.0 / tracked.item<long>();
        }

        bool useBatchStatistics = training || (running_mean is null && running_var is null);
        bool useRunning = !training || track_running_stats;
        return nn.functional.batch_norm(input, useRunning ? running_mean : null, useRunning ? running_var : null, weight, bias,
            useBatchStatistics, factor, eps);
    }

    protected override void ValidateInputDimensions(Tensor input)
    {
        if (input.ndim != 2 && input.ndim != 3)
            throw new ArgumentException($"expected 2D or 3D input, but got {input.ndim}D input.");
    }
}
