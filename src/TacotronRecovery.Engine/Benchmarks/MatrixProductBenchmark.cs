using System.Diagnostics;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Benchmarks;

/// <summary>One measured matrix product: its shape, how the weight was laid out, milliseconds per call and GFLOP/s.</summary>
public sealed record MatrixProductResult(string Product, string Weight, double Milliseconds, double Gflops);

/// <summary>
/// Throughput of the matrix products the small preset's decoder runs (bench --products): the per-step products of the
/// two recurrences forward and backward, the attention query's, and the all-steps input projection
/// [2400 × 768]·[768 × 2048], each with the weight as a transposed view of the parameter and as a contiguous copy.
/// Shows what MKL's kernel choice (<see cref="Runtime.MklDispatch"/>; compare with TACOTRON_MKL_VENDOR_DISPATCH=1 or
/// MKL_ENABLE_INSTRUCTIONS=AVX2) and the layout are worth on a CPU.
/// </summary>
public static class MatrixProductBenchmark
{
    /// <summary>Measures each product (fixed seed; a few untimed calls first) at the process's thread setting.</summary>
    public static IReadOnlyList<MatrixProductResult> Run()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(7);
        var results = new List<MatrixProductResult>();
        // (rows, inner, outer): x [rows, inner]·W [inner, outer]: the small preset's per-step products of forward (outer 4H) and
        // backward (inner 4H), the all-steps one, and the attention query.
        foreach (var (rows, inner, outer) in new (long, long, long)[] { (16, 768, 2048), (2400, 768, 2048), (16, 2048, 768), (16, 512, 2048), (16, 2048, 512), (16, 512, 128) })
        {
            var weight = randn(new[] { outer, inner }, generator: g);
            var contiguous = weight.t().contiguous();
            var bias = randn(new[] { outer }, generator: g);
            var x = randn(new[] { rows, inner }, generator: g);
            var calls = rows == 16 ? 400 : 10;
            foreach (var (name, w) in new[] { ("transposed view", weight.t()), ("contiguous", contiguous) })
            {
                var ms = Time(() => addmm(bias, x, w, 1, 1).Dispose(), calls);
                results.Add(new MatrixProductResult($"[{rows} × {inner}]·[{inner} × {outer}]", name, ms, 2.0 * rows * inner * outer / (ms * 1e6)));
            }
        }

        return results;
    }

    private static double Time(Action call, int calls)
    {
        for (var i = 0; i < Math.Max(3, calls / 10); i++) call();
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < calls; i++) call();
        return watch.Elapsed.TotalMilliseconds / calls;
    }
}
