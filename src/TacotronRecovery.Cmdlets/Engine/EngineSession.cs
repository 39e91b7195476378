using System.Collections.Concurrent;
using System.Diagnostics;
using TacotronRecovery.Core.Contract;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Commands.Engine;

/// <summary>
/// A foreground engine process (the <c>supervise</c> or <c>diagnose</c> verb): its stdout envelope lines
/// (<see cref="EngineEnvelope"/>) become records, its stderr is kept for error messages. Reading happens on the caller's thread (the pipeline thread), so the
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
        // Windows: the root of a new process group with Ctrl+C disabled, so console control events sent to the caller's
        // group do not reach it (not exercised by the tests, which run on Linux).
        if (OperatingSystem.IsWindows()) psi.CreateNewProcessGroup = true;
        if (!OperatingSystem.IsWindows() && File.Exists(SetsidPath))
        {
            psi.ArgumentList.Insert(0, psi.FileName);
            psi.FileName = SetsidPath;
        }
        var p = Process.Start(psi) ?? throw new InvalidOperationException("The engine process did not start.");
        p.StandardInput.Close();
        return p;
    }

    /// <summary>
    /// Starts the supervisor detached (<see cref="StartDetached"/>) and waits up to <paramref name="timeout"/> until it has
    /// left the caller's session and pipes (it then holds supervisor.lock) and its engine has written run.json.
    /// </summary>
    /// <returns>Null while the run goes on; the exit code and message of a supervisor that exited first.</returns>
    public static (int ExitCode, string Message)? StartDetachedAndWait(IReadOnlyList<string> args, RunDirectory run, TimeSpan timeout, Action<int>? started = null)
    {
        var since = DateTimeOffset.UtcNow;
        // Only what this supervisor writes to supervisor.log speaks for it (the log is kept across sessions).
        long logStart = File.Exists(run.SupervisorLog) ? new FileInfo(run.SupervisorLog).Length : 0;
        var stderr = new System.Text.StringBuilder();
        // Disposing closes our ends of its first pipes; by then it writes to its log files.
        using var p = StartDetached(args);
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        p.OutputDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        started?.Invoke(p.Id);
        var deadline = DateTime.UtcNow + timeout;
        bool detached = false;
        while (DateTime.UtcNow < deadline)
        {
            if (p.HasExited)
            {
                p.WaitForExit();
                string message;
                lock (stderr) message = stderr.ToString();
                var lines = message.Split('\n').ToList();
                if (EngineExit.MessageFrom(lines).Length == 0) lines = NewLines(run.SupervisorLog, logStart);
                return (p.ExitCode, EngineExit.MessageFrom(lines));
            }
            detached = detached || RunLock.ReadHolder(run.SupervisorLockFile)?.Pid == p.Id;
            if (detached && RunStateStore.TryRead(run.StateFile) is { } state && state.Updated >= since) return null;
            Thread.Sleep(200);
        }
        return null;
    }

    /// <summary>The lines written to <paramref name="file"/> after byte <paramref name="start"/> (none when it is missing).</summary>
    private static List<string> NewLines(string file, long start)
    {
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Seek(Math.Min(start, stream.Length), SeekOrigin.Begin);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd().Split('\n').ToList();
        }
        catch (IOException) { return []; }
        catch (UnauthorizedAccessException) { return []; }
    }

    /// <summary>util-linux setsid: runs a program in a new session.</summary>
    internal const string SetsidPath = "/usr/bin/setsid";

    /// <summary>
    /// Envelope records as the engine writes them, until it exits. Error records are kept (<see cref="Reported"/>), not
    /// returned.
    /// </summary>
    public IEnumerable<EngineRecord> ReadRecords()
    {
        string? line;
        while ((line = _process.StandardOutput.ReadLine()) is not null)
        {
            if (!EngineEnvelope.TryParse(line, out var record)) continue;
            if (record.Type == EngineEnvelope.Error) Reported = record.As<EngineError>();
            else yield return record;
        }
        _process.WaitForExit();
    }

    /// <summary>The training records (StepMetrics, AlignmentMetrics, TrainingEvent) as the engine writes them, until it exits.</summary>
    public IEnumerable<object> ReadTrainingRecords() => ReadRecords().Select(r => r.ToTrainingRecord()).OfType<object>();

    /// <summary>Exit code (after <see cref="ReadRecords"/> ended).</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>The error the engine reported on stdout, if any.</summary>
    public EngineError? Reported { get; private set; }

    /// <summary>The message on stderr (<see cref="EngineExit.MessageFrom"/>).</summary>
    public string ErrorMessage => EngineExit.MessageFrom(_stderr.ToArray());

    /// <summary>How the engine ended, as an error (<see cref="EngineExit.ToError"/>), or null when it succeeded.</summary>
    public System.Management.Automation.ErrorRecord? ToError(object? target, string badInputId = "DataInvalid", string failureId = EngineExit.EngineFailed, string? run = null) =>
        EngineExit.ToError(ExitCode, Reported, ErrorMessage, target, badInputId, failureId, run);

    /// <summary>Waits for exit up to <paramref name="timeout"/>, then kills the process tree.</summary>
    public void WaitOrKill(TimeSpan timeout)
    {
        if (!_process.WaitForExit((int)timeout.TotalMilliseconds))
        {
            try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            _process.WaitForExit();
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
