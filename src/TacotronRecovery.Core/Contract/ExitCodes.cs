namespace TacotronRecovery.Core.Contract;

/// <summary>
/// Process exit codes of the engine (<c>TacotronRecovery.Host</c>): the one definition the engine returns, the
/// cmdlets interpret (<c>EngineExit</c> on the cmdlet side) and docs/engine.md lists (a test keeps the table in step).
/// </summary>
public static class ExitCodes
{
    /// <summary>Completed, or stopped on request with a checkpoint.</summary>
    public const int Ok = 0;
    /// <summary>An unexpected error (message and stack on stderr).</summary>
    public const int Error = 1;
    /// <summary>Bad command line.</summary>
    public const int Usage = 2;
    /// <summary>Recovery exhausted: stopped cleanly, everything kept, the diagnosis in events.jsonl and run.json.</summary>
    public const int Exhausted = 3;
    /// <summary>Another engine holds the run's lock (engine.lock), or another supervisor (supervisor.lock).</summary>
    public const int Locked = 4;
    /// <summary>Bad input: config, dataset or checkpoint unusable (the message names the file, line or key).</summary>
    public const int BadInput = 5;
    /// <summary>Killed (SIGKILL, 128 + 9): what run.json records after Stop-TacotronTraining -Force.</summary>
    public const int Killed = 137;

    /// <summary>Every code the engine itself returns or records, with its name.</summary>
    public static IReadOnlyList<(int Code, string Name)> All { get; } =
    [
        (Ok, nameof(Ok)), (Error, nameof(Error)), (Usage, nameof(Usage)), (Exhausted, nameof(Exhausted)),
        (Locked, nameof(Locked)), (BadInput, nameof(BadInput)), (Killed, nameof(Killed)),
    ];

    /// <summary>True for the codes with which an engine ended on purpose (a supervisor does not restart it).</summary>
    public static bool IsDeliberate(int code) => code is Ok or Usage or Exhausted or Locked or BadInput;

    /// <summary>What a code of a process that died by a signal means, as " (SIGABRT: a native abort)", else "".</summary>
    public static string DescribeSignal(int code) => code switch
    {
        134 => " (SIGABRT: a native abort)",
        137 => " (SIGKILL: killed, often out of memory)",
        139 => " (SIGSEGV)",
        143 => " (SIGTERM)",
        _ => "",
    };
}
