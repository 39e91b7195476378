using TacotronRecovery.Core.Contract;

namespace TacotronRecovery.Commands.Engine;

/// <summary>A short engine verb that ran to its end: exit code, its stdout records and its stderr.</summary>
/// <param name="ExitCode">Exit code (<see cref="ExitCodes"/>).</param>
/// <param name="Records">The envelope records on stdout, in order.</param>
/// <param name="StdErr">Everything on stderr.</param>
internal sealed record EngineResult(int ExitCode, IReadOnlyList<EngineRecord> Records, string StdErr)
{
    /// <summary>The engine's last error record, if it wrote one.</summary>
    public EngineError? Reported => Records.LastOrDefault(r => r.Type == EngineEnvelope.Error) is { Type: not null } e ? e.As<EngineError>() : null;

    /// <summary>The message on stderr (<see cref="EngineExit.MessageFrom"/>).</summary>
    public string Message => EngineExit.MessageFrom(StdErr.Split('\n'));

    /// <summary>The data of the last record of <paramref name="type"/>, or null.</summary>
    public System.Text.Json.JsonElement? Result(string type) =>
        Records.LastOrDefault(r => r.Type == type) is { Type: not null } r ? r.Data : null;
}
