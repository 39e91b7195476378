using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Training;

/// <summary>
/// Dynamic loss scaling for fp16 products (TorchSharp has no GradScaler; this is PyTorch's algorithm): the loss is
/// multiplied by <see cref="Scale"/> before backward, so that small gradients do not underflow in fp16; the gradients
/// are divided by it again (<see cref="Unscale"/>) before clipping, so clipping and the optimizer see true gradients.
/// A non-finite gradient (an fp16 overflow) means: skip the optimizer step and multiply the scale by
/// <see cref="BackoffFactor"/>; <see cref="GrowthInterval"/> finite steps in a row multiply it by
/// <see cref="GrowthFactor"/>. Scale and growth tracker are saved with checkpoints (<see cref="ToJson"/>), so a resumed
/// run continues them.
/// </summary>
public sealed class GradScaler
{
    /// <summary>PyTorch's defaults: initial scale 2^16, growth ×2 after 2000 finite steps, backoff ×0.5.</summary>
    public GradScaler(double initialScale = 65536.0, double growthFactor = 2.0, double backoffFactor = 0.5, int growthInterval = 2000)
    {
        if (!(initialScale > 0) || double.IsInfinity(initialScale)) throw new ArgumentOutOfRangeException(nameof(initialScale), initialScale, "The loss scale must be a positive finite number.");
        if (!(growthFactor > 1)) throw new ArgumentOutOfRangeException(nameof(growthFactor), growthFactor, "The growth factor must be above 1.");
        if (!(backoffFactor > 0 && backoffFactor < 1)) throw new ArgumentOutOfRangeException(nameof(backoffFactor), backoffFactor, "The backoff factor must be in (0, 1).");
        if (growthInterval < 1) throw new ArgumentOutOfRangeException(nameof(growthInterval), growthInterval, "The growth interval must be at least 1.");
        Scale = initialScale;
        GrowthFactor = growthFactor;
        BackoffFactor = backoffFactor;
        GrowthInterval = growthInterval;
    }

    /// <summary>The current loss scale.</summary>
    public double Scale { get; private set; }

    /// <summary>Finite steps since the last growth or backoff.</summary>
    public int GrowthTracker { get; private set; }

    /// <summary>Scale multiplier after <see cref="GrowthInterval"/> finite steps.</summary>
    public double GrowthFactor { get; }

    /// <summary>Scale multiplier after an overflow.</summary>
    public double BackoffFactor { get; }

    /// <summary>Finite steps in a row before the scale grows.</summary>
    public int GrowthInterval { get; }

    /// <summary>loss × <see cref="Scale"/> (a new tensor; back-propagate this one).</summary>
    public Tensor ScaleLoss(Tensor loss)
    {
        using var s = Scale.ToScalar();
        return loss.mul(s);
    }

    /// <summary>Divides every gradient by <see cref="Scale"/> in place (before clipping). Call once per backward.</summary>
    public void Unscale(IEnumerable<Tensor> parameters)
    {
        using var inverse = (1.0 / Scale).ToScalar();
        using var _ = no_grad();
        foreach (var p in parameters)
            if (p.grad is { } g) g.mul_(inverse);
    }

    /// <summary>
    /// After the step's gradient check: an overflow (<paramref name="overflowed"/>) backs the scale off and resets the
    /// tracker; a finite step counts toward growth. Returns the scale before the update.
    /// </summary>
    public double Update(bool overflowed)
    {
        double before = Scale;
        if (overflowed)
        {
            Scale *= BackoffFactor;
            GrowthTracker = 0;
        }
        else if (++GrowthTracker >= GrowthInterval)
        {
            double grown = Scale * GrowthFactor;
            if (double.IsFinite(grown)) Scale = grown;
            GrowthTracker = 0;
        }
        return before;
    }

    /// <summary>The state stored in a checkpoint's metadata: <c>{"scale": …, "growth_tracker": …}</c>.</summary>
    public JsonObject ToJson() => new() { ["scale"] = Scale, ["growth_tracker"] = GrowthTracker };

    /// <summary>
    /// Continues from a checkpoint's state; null (a checkpoint written without fp16, or before this existed) or an
    /// invalid value keeps the current state.
    /// </summary>
    public void Restore(JsonNode? state)
    {
        if (state is not JsonObject o) return;
        double? scale = o["scale"]?.GetValue<double>();
        int? tracker = o["growth_tracker"]?.GetValue<int>();
        if (scale is double s && s > 0 && double.IsFinite(s)) Scale = s;
        if (tracker is int t && t >= 0) GrowthTracker = Math.Min(t, GrowthInterval - 1);
    }
}
