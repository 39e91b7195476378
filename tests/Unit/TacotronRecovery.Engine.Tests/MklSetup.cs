using System.Runtime.CompilerServices;
using TacotronRecovery.Engine.Runtime;

namespace TacotronRecovery.Engine.Tests;

/// <summary>
/// The engine process lets MKL choose its kernels by CPU features (MklDispatch) and turns oneDNN off (OneDnn); the
/// tests run the same kernels.
/// </summary>
internal static class MklSetup
{
    [ModuleInitializer]
    internal static void Enable()
    {
        MklDispatch.Enable();
        OneDnn.Disable();
    }
}
