namespace TacotronRecovery.Core.Contract;

/// <summary>
/// The payload of an <see cref="EngineEnvelope.Error"/> line: a failure with a stable ErrorId (e.g. CheckpointCorrupt,
/// DatasetNotFound) that the cmdlet reports as is, rather than deriving one from the exit code.
/// </summary>
public sealed record EngineError
{
    /// <summary>Stable ErrorId of the PowerShell error.</summary>
    public string ErrorId { get; init; } = "";
    /// <summary>What went wrong, for the user.</summary>
    public string Message { get; init; } = "";
    /// <summary>The offending file, when there is one.</summary>
    public string? Path { get; init; }
}
