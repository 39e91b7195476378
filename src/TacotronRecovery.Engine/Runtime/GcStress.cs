namespace TacotronRecovery.Engine.Runtime;

/// <summary>
/// A soak switch (tools/soak/Invoke-Soak.ps1): with <c>TACOTRON_GC_STRESS_MS=N</c> in the environment, a background
/// thread forces a full collection and waits for finalizers every N milliseconds, so that a TorchSharp object that is
/// finalized while libtorch still uses it (docs/engine.md, "Temporary Scalars") fails within seconds instead of once in
/// hours. Off unless the variable is set; never set it in production.
/// </summary>
public static class GcStress
{
    /// <summary>The environment variable: the period in milliseconds (1 to 60000).</summary>
    public const string Variable = "TACOTRON_GC_STRESS_MS";

    private static Thread? _thread;

    /// <summary>Starts the collector thread when <see cref="Variable"/> holds a period; returns it, or null when off.</summary>
    public static int? StartIfRequested()
    {
        if (_thread is not null) return null;
        if (!int.TryParse(Environment.GetEnvironmentVariable(Variable), out var ms) || ms is < 1 or > 60000) return null;
        _thread = new Thread(() =>
        {
            while (true)
            {
                Thread.Sleep(ms);
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }) { IsBackground = true, Name = "gc-stress" };
        _thread.Start();
        return ms;
    }
}
