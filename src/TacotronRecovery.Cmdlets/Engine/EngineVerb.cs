using System.Management.Automation;
using System.Text.Json;

namespace TacotronRecovery.Commands.Engine;

/// <summary>Runs a short engine verb (import, export, forward, synthesize) and turns how it ended into its result or an ErrorRecord.</summary>
internal static class EngineVerb
{
    /// <summary>
    /// The <c>data</c> of the verb's result record (the record whose type is <paramref name="resultType"/>), or null
    /// after writing the error (<see cref="EngineExit"/>).
    /// </summary>
    /// <param name="cmdlet">Where the error goes.</param>
    /// <param name="target">The error's target.</param>
    /// <param name="failureId">ErrorId of an unexpected failure.</param>
    /// <param name="resultType">The result record's type.</param>
    /// <param name="timeout">How long the verb may run.</param>
    /// <param name="args">Verb and options.</param>
    public static JsonElement? Run(PSCmdlet cmdlet, string target, string failureId, string resultType, TimeSpan timeout, params string[] args)
    {
        EngineResult result;
        try
        {
            result = EngineHost.Run(timeout, args);
        }
        catch (Exception e) when (e is FileNotFoundException or TimeoutException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            cmdlet.WriteError(new ErrorRecord(e, "EngineUnavailable", ErrorCategory.ResourceUnavailable, target));
            return null;
        }
        if (EngineExit.ToError(result.ExitCode, result.Reported, result.Message, target, badInputId: "CheckpointCorrupt", failureId: failureId) is { } error)
        {
            cmdlet.WriteError(error);
            return null;
        }
        if (result.Result(resultType) is not { } data)
        {
            cmdlet.WriteError(new ErrorRecord(new InvalidOperationException($"The engine gave no '{resultType}' result: {result.StdErr.Trim()}"), failureId, ErrorCategory.InvalidResult, target));
            return null;
        }
        return data;
    }
}
