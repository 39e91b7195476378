using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Commands.Engine;

/// <summary>
/// A foreground engine process (usually the <c>supervise</c> verb): its stdout JSON lines become typed records,
/// its stderr is kept for error messages. Reading happens on the caller's thread (the pipeline thread), so the
/// cmdlet can write objects and progress directly.
/// </summary>
internal sealed class EngineSession : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stderr = new();

    private EngineSession(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (sender, e) =>
        {
            if (e.Data is null) return;
            _stderr.Enqueue(e.Data);
            while (_stderr.Count > 200) _stderr.TryDequeue(out _);
        };
        _process.BeginErrorReadLine();
    }

    /// <summary>Process id.</summary>
    public int Pid => _process.Id;

    /// <summary>Starts the engine with <paramref name="args"/> (verb first).</summary>
    public static EngineSession Start(IReadOnlyList<string> args)
    {
        var psi = EngineHost.StartInfo(args.ToArray());
        var p = Process.Start(psi) ?? throw new InvalidOperationException("The engine process did not start.");
        return new EngineSession(p);
    }

    /// <summary>
    /// Starts the supervisor detached (<c>supervise --detach</c>): on Unix through <c>/usr/bin/setsid</c> when present, so
    /// it leads its own session and process group from its first instruction (it calls setsid() itself otherwise); on
    /// Windows without a console window. Its stdin, stdout and stderr are new pipes, never the caller's, so a caller
    /// that captures output (bash <c>$(...)</c>, cron, CI) does not wait for the run; the supervisor moves them to
    /// /dev/null and logs/supervisor.log at once. Returns the started process with its pipes, which the caller reads
    /// until the supervisor has detached (or reports why it failed) and then disposes.
    /// </summary>
    public static Process StartDetached(IReadOnlyList<string> args)
    {
        var psi = EngineHost.StartInfo([.. args, "--detach"]);
        psi.RedirectStandardInput = true;
        psi.CreateNoWindow = true;
        if (!OperatingSystem.IsWindows() && File.Exists(SetsidPath))
        {
            psi.ArgumentList.Insert(0, psi.FileName);
            psi.FileName = SetsidPath;
        }
        var p = Process.Start(psi) ?? throw new InvalidOperationException("The engine process did not start.");
        p.StandardInput.Close();
        return p;
    }

    /// <summary>util-linux setsid: runs a program in a new session.</summary>
    internal const string SetsidPath = "/usr/bin/setsid";

    /// <summary>Records as the engine writes them, until it exits.</summary>
    public IEnumerable<object> ReadRecords()
    {
        string? line;
        while ((line = _process.StandardOutput.ReadLine()) is not null)
        {
            var record = Parse(line);
            if (record is not null) yield return record;
        }
        _process.WaitForExit();
    }

    /// <summary>Exit code (after <see cref="ReadRecords"/> ended).</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>The last stderr line that starts with "error:", else the last line.</summary>
    public string ErrorMessage
    {
        get
        {
            var lines = _stderr.ToArray();
            var error = lines.LastOrDefault(l => l.StartsWith("error:", StringComparison.Ordinal));
            return (error ?? lines.LastOrDefault() ?? "").Replace("error: ", "", StringComparison.Ordinal).Trim();
        }
    }

    /// <summary>Waits for exit up to <paramref name="timeout"/>, then kills the process tree.</summary>
    public void WaitOrKill(TimeSpan timeout)
    {
        if (!_process.WaitForExit((int)timeout.TotalMilliseconds))
        {
            try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            _process.WaitForExit();
        }
    }

    /// <summary>Parses one stdout line; unknown or malformed lines are ignored.</summary>
    internal static object? Parse(string line)
    {
        if (line.Length == 0 || line[0] != '{') return null;
        try
        {
            using var doc = JsonDocument.Parse(line);
            if (!doc.RootElement.TryGetProperty("type", out var type) || !doc.RootElement.TryGetProperty("data", out var data)) return null;
            return type.GetString() switch
            {
                "step" => data.Deserialize<StepMetrics>(RunJson.Options),
                "alignment" => data.Deserialize<AlignmentMetrics>(RunJson.Options),
                "event" => data.Deserialize<TrainingEvent>(RunJson.Options),
                _ => null,
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_process.HasExited)
        {
            try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        }
        _process.Dispose();
    }
}
