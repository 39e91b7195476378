namespace TacotronRecovery.Core.Runs;

/// <summary>
/// Test hook of the kill -9 soak (tools/soak/kill9.ps1): with <c>TACOTRON_TEST_WRITE_DELAY_MS</c> set, every atomic
/// write of a run file (checkpoint, manifest, run.json, recovery state) pauses that long after its temporary file is
/// complete and before it is renamed over the target, so that random kills land inside writes often. Unset (always,
/// outside the soak) it does nothing.
/// </summary>
public static class WriteWindow
{
    private static readonly int DelayMs =
        int.TryParse(Environment.GetEnvironmentVariable("TACOTRON_TEST_WRITE_DELAY_MS"), out int ms) ? Math.Clamp(ms, 0, 10_000) : 0;

    /// <summary>Pauses when the hook is set.</summary>
    public static void Pause()
    {
        if (DelayMs > 0) Thread.Sleep(DelayMs);
    }
}
