using System.Diagnostics;
using System.Runtime.InteropServices;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Host.Verbs;

/// <summary>
/// <c>supervise</c>: starts <c>train</c> in a child process and restarts it from the last good checkpoint when it
/// dies (native abort, out-of-memory kill, killed), up to <c>recovery.max_restarts</c> times. The child is told why
/// (--restart-reason), and its recovery controller raises the safe-mode level. Child stdout is forwarded as is.
/// A libtorch abort therefore kills an engine, never the supervisor or the user's shell.
/// </summary>
public static class SuperviseVerb
{
    /// <summary>Runs the verb; returns the final exit code.</summary>
    public static int Run(Arguments args)
    {
        var config = RunSession.LoadConfig(args, out var configPath);
        var run = RunSession.Locate(args, config, configPath);
        args.Has("resume"); args.Get("checkpoint"); args.Has("quiet"); args.Get("emergency");
        args.RejectUnknown();
        run.Create();
        var childArgs = args.Raw().ToList();
        if (!childArgs.Contains("--run")) { childArgs.Add("--run"); childArgs.Add(run.Path); }

        int maxRestarts = config.Recovery.Enabled ? config.Recovery.MaxRestarts : 0;
        int restarts = 0;
        string? reason = null;
        using var stopping = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stopping.Cancel(); TryRequestStop(run); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stopping.Cancel(); TryRequestStop(run); });

        while (true)
        {
            var a = new List<string>(childArgs);
            if (reason is not null)
            {
                if (!a.Contains("--resume")) a.Add("--resume");
                RemoveOption(a, "--checkpoint");
                RemoveOption(a, "--emergency");
                a.Add("--restart-reason"); a.Add(reason);
            }
            int code;
            using (var child = StartChild(a))
            {
                child.WaitForExit();
                code = child.ExitCode;
            }
            if (code is ExitCodes.Ok or ExitCodes.Usage or ExitCodes.Exhausted or ExitCodes.Locked or ExitCodes.BadInput || stopping.IsCancellationRequested)
                return code;

            reason = $"engine exited with code {code}{Describe(code)}";
            if (restarts >= maxRestarts)
            {
                var message = $"The engine died ({reason}) and the restart budget ({maxRestarts}) is spent; stopped. Checkpoints and logs are kept in {run.Path}.";
                AppendEvent(run, "Exhausted", "RestartBudgetSpent", EventSeverity.Critical, message, LastStep(run));
                var state = RunStateStore.TryRead(run.StateFile);
                RunStateStore.Write(run.StateFile, (state ?? new RunState { Name = run.Name, Started = DateTimeOffset.UtcNow }) with
                {
                    Status = RunStatus.Failed, Updated = DateTimeOffset.UtcNow, ExitCode = ExitCodes.Exhausted, Message = message,
                });
                Console.Error.WriteLine(message);
                return ExitCodes.Exhausted;
            }
            restarts++;
            AppendEvent(run, "Restart", "EngineRestart", EventSeverity.Critical,
                $"The engine died ({reason}); restart {restarts} of {maxRestarts} from the last good checkpoint, one safe-mode level higher.", LastStep(run));
            var s = RunStateStore.TryRead(run.StateFile);
            if (s is not null) RunStateStore.Write(run.StateFile, s with { Status = RunStatus.Recovering, Updated = DateTimeOffset.UtcNow, Message = reason });
        }
    }

    private static void RemoveOption(List<string> args, string name)
    {
        int i = args.IndexOf(name);
        if (i >= 0) args.RemoveRange(i, Math.Min(2, args.Count - i));
    }

    private static void TryRequestStop(RunDirectory run)
    {
        try { run.RequestStop(); } catch (IOException) { }
    }

    private static string Describe(int code) => code switch
    {
        134 => " (SIGABRT: a native abort)",
        137 => " (SIGKILL: killed, often out of memory)",
        139 => " (SIGSEGV)",
        143 => " (SIGTERM)",
        _ => "",
    };

    private static int LastStep(RunDirectory run) => RunStateStore.TryRead(run.StateFile)?.Step ?? 0;

    private static void AppendEvent(RunDirectory run, string kind, string code, EventSeverity severity, string message, int step)
    {
        using var w = new JsonLinesWriter<TrainingEvent>(run.EventsFile);
        var e = new TrainingEvent { Run = run.Name, Step = step, Time = DateTimeOffset.UtcNow, Kind = kind, Code = code, Severity = severity, Message = message };
        w.Append(e);
        Console.Out.WriteLine("{\"type\":\"event\",\"data\":" + System.Text.Json.JsonSerializer.Serialize(e, RunJson.Options) + "}");
        File.AppendAllText(run.LogFile, $"{DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss} [{severity}] {code}: {message}{Environment.NewLine}");
    }

    private static Process StartChild(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        var self = typeof(SuperviseVerb).Assembly.Location;
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            psi.ArgumentList.Add(self);
        psi.ArgumentList.Add("train");
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi) ?? throw new InvalidOperationException("The engine process did not start.");
    }
}
