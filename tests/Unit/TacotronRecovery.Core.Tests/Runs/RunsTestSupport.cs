using System.Diagnostics;
using System.Text;
using System.Text.Json;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Tests.Runs;

/// <summary>A temporary folder deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tr-runs-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>A clock that returns what the test sets.</summary>
internal sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;
    public override DateTimeOffset GetUtcNow() => Now;
}

internal static class RunsTestData
{
    public static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public static StepMetrics Step(int step, double loss = 1.0) => new()
    {
        Step = step, Time = T0.AddSeconds(step), Epoch = 1, LearningRate = 1e-3, Loss = loss, MelLoss = loss / 2,
        MelPostnetLoss = loss / 3, GateLoss = 0.1, GuidedAttentionLoss = 0.05, GuidedAttentionWeight = 10,
        GradNorm = 2.5, ClipThreshold = 1, BatchSize = 16, StepSeconds = 0.8,
    };

    public static string Line(int step, double loss = 1.0) => JsonSerializer.Serialize(Step(step, loss), RunJson.Options);

    /// <summary>Writes lines quickly (one buffered writer), each followed by '\n'.</summary>
    public static void WriteLines(string path, IEnumerable<string> lines, string? tail = null)
    {
        using var w = new StreamWriter(path, append: false, new UTF8Encoding(false), 1 << 16);
        foreach (var l in lines) { w.Write(l); w.Write('\n'); }
        if (tail is not null) w.Write(tail);
    }

    /// <summary>The pid of a process that has exited (and been reaped).</summary>
    public static int DeadPid()
    {
        using var p = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        p.WaitForExit();
        return p.Id;
    }
}
