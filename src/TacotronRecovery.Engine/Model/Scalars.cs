using TorchSharp;

namespace TacotronRecovery.Engine.Model;

/// <summary>
/// Scalars that live as long as the process. TorchSharp turns a number (or the implicit alpha of <c>add(Tensor)</c>)
/// into a temporary <see cref="Scalar"/> whose only use is its native handle, and <see cref="Scalar"/> has a finalizer:
/// the GC may free it while libtorch still reads it. Measured: <c>x.add(y)</c> in a loop with a thread running
/// <c>GC.Collect</c> threw "Expected false to be true … toFloat" within two seconds, inside a dispose scope too (scopes do
/// not own Scalars) — the same error that killed engines with SIGABRT when it happened inside a backward function
/// (docs/engine.md). Passing one of these instead keeps the Scalar reachable for the whole call.
/// </summary>
internal static class Scalars
{
    public static readonly Scalar One = 1.0.ToScalar();
    public static readonly Scalar NegativeInfinity = double.NegativeInfinity.ToScalar();
}
