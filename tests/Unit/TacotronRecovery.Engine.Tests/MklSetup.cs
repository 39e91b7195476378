using System.Runtime.CompilerServices;
using TacotronRecovery.Engine.Runtime;

namespace TacotronRecovery.Engine.Tests;

/// <summary>
/// The engine process lets MKL choose its kernels by CPU features (MklDispatch) and turns oneDNN off (OneDnn) and tunes
/// the heap (NativeHeap); the tests run the same kernels and allocator.
/// </summary>
internal static class MklSetup
{
    [ModuleInitializer]
    internal static void Enable()
    {
        NativeHeap.Tune();
        MklDispatch.Enable();
        OneDnn.Disable();
    }
}
