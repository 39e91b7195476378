using System.Management.Automation;
using TacotronRecovery.Core.Contract;

namespace TacotronRecovery.Commands.Engine;

/// <summary>
/// The one mapping from how an engine ended (<see cref="ExitCodes"/>, and the <see cref="EngineError"/> it reported
/// on stdout, if any) to a PowerShell ErrorRecord: ErrorId, category and message. A reported ErrorId wins; otherwise
/// the exit code decides, with the caller naming what a bad input is for its verb and what an unexpected failure is.
/// </summary>
internal static class EngineExit
{
    /// <summary>ErrorId of an engine that failed unexpectedly, when the caller names nothing more specific.</summary>
    public const string EngineFailed = "EngineFailed";

    /// <summary>The ErrorId for <paramref name="code"/> when the engine reported none.</summary>
    /// <param name="code">Exit code.</param>
    /// <param name="badInputId">What <see cref="ExitCodes.BadInput"/> means for this verb (CheckpointCorrupt, DataInvalid, …).</param>
    /// <param name="failureId">ErrorId of any other failure (EngineFailed, SynthesisFailed, …).</param>
    public static string ErrorId(int code, string badInputId, string failureId) => code switch
    {
        ExitCodes.Usage => "InvalidArgument",
        ExitCodes.Exhausted => "RecoveryExhausted",
        ExitCodes.Locked => "RunLocked",
        ExitCodes.BadInput => badInputId,
        _ => failureId,
    };

    /// <summary>The category of an ErrorId.</summary>
    public static ErrorCategory Category(string errorId) => errorId switch
    {
        "InvalidArgument" => ErrorCategory.InvalidArgument,
        "RecoveryExhausted" => ErrorCategory.OperationStopped,
        "RunLocked" => ErrorCategory.ResourceBusy,
        EngineFailed => ErrorCategory.InvalidResult,
        _ when errorId.EndsWith("NotFound", StringComparison.Ordinal) => ErrorCategory.ObjectNotFound,
        _ when errorId.StartsWith("Config", StringComparison.Ordinal) || errorId.StartsWith("Data", StringComparison.Ordinal)
            || errorId.StartsWith("Checkpoint", StringComparison.Ordinal) || errorId.EndsWith("Invalid", StringComparison.Ordinal) => ErrorCategory.InvalidData,
        _ => ErrorCategory.InvalidOperation,
    };

    /// <summary>
    /// The error of an engine that ended with <paramref name="code"/>, or null when it succeeded (exit 0 and no error reported).
    /// </summary>
    /// <param name="code">Exit code.</param>
    /// <param name="reported">The engine's own error line, if any.</param>
    /// <param name="message">What the engine said on stderr (<see cref="MessageFrom"/>).</param>
    /// <param name="target">The error's target (run folder, checkpoint).</param>
    /// <param name="badInputId">What a bad input is for this verb.</param>
    /// <param name="failureId">What any other failure is for this verb.</param>
    /// <param name="run">Run name, for the exhaustion message.</param>
    public static ErrorRecord? ToError(int code, EngineError? reported, string message, object? target,
        string badInputId = "DataInvalid", string failureId = EngineFailed, string? run = null)
    {
        if (code == ExitCodes.Ok && reported is null) return null;
        string id = string.IsNullOrEmpty(reported?.ErrorId) ? ErrorId(code, badInputId, failureId) : reported.ErrorId;
        string text = !string.IsNullOrEmpty(reported?.Message) ? reported.Message : code switch
        {
            ExitCodes.Exhausted => $"Recovery exhausted{(run is null ? "" : $" for run '{run}'")}. {message}".Trim(),
            ExitCodes.Ok or ExitCodes.Usage or ExitCodes.Locked or ExitCodes.BadInput => message,
            _ => $"The engine failed (exit code {code}{ExitCodes.DescribeSignal(code)}): {message}",
        };
        var category = Category(id);
        Exception exception = category == ErrorCategory.InvalidData ? new InvalidDataException(text) : new InvalidOperationException(text);
        return new ErrorRecord(exception, id, category, target);
    }

    /// <summary>The message in an engine's stderr: the last line that starts with "error:", else the last line.</summary>
    public static string MessageFrom(IEnumerable<string> stderrLines)
    {
        var lines = stderrLines.Where(l => l.Trim().Length > 0).ToList();
        var error = lines.LastOrDefault(l => l.StartsWith("error:", StringComparison.Ordinal));
        return (error ?? lines.LastOrDefault() ?? "").Replace("error: ", "", StringComparison.Ordinal).Trim();
    }
}
