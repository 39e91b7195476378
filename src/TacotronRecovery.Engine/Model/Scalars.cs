using TorchSharp;

namespace TacotronRecovery.Engine.Model;

/// <summary>
/// Scalars that live as long as the process. TorchSharp turns a number (or the implicit alpha of <c>add(Tensor)</c>, the
/// 2 of <c>square()</c>, the 1 of <c>a + b</c>) into a temporary <see cref="Scalar"/> whose only use is its native handle,
/// and <see cref="Scalar"/> has a finalizer: the GC may free it while libtorch still reads it. Measured: <c>x.add(y)</c>
/// in a loop with a thread running <c>GC.Collect</c> threw "Expected false to be true … toFloat" within two seconds,
/// inside a dispose scope too (scopes do not own Scalars) — the same error that killed engines with SIGABRT when it
/// happened inside a backward function (docs/engine.md). Pass one of these for a constant; for a value known only at run
/// time, <c>using var s = value.ToScalar();</c> keeps it alive until the end of the scope. A test reads the engine's IL
/// and fails on any other Scalar (ScalarLifetimeTests).
/// </summary>
internal static class Scalars
{
    public static readonly Scalar One = 1.0.ToScalar();
    public static readonly Scalar NegativeInfinity = double.NegativeInfinity.ToScalar();

    /// <summary>The exponent of <c>pow</c> in place of <c>square()</c> (which is <c>pow(2)</c> with a temporary 2).</summary>
    public static readonly Scalar Two = 2.ToScalar();

    /// <summary>0 for <c>masked_fill</c>.</summary>
    public static readonly Scalar Zero = 0.0.ToScalar();

    /// <summary>Integer 0 and 1: <c>arange</c> bounds and steps, counters (an integer tensor cannot take a float in place).</summary>
    public static readonly Scalar ZeroInt64 = 0L.ToScalar();

    /// <inheritdoc cref="ZeroInt64"/>
    public static readonly Scalar OneInt64 = 1L.ToScalar();

    /// <summary>The gate logit of padding frames (a sure "stop").</summary>
    public static readonly Scalar GatePadLogit = 1e3.ToScalar();
}
