namespace TacotronRecovery.Engine.Interop;

/// <summary>
/// A PyTorch checkpoint or parity input that cannot be used. <see cref="ErrorId"/> is stable:
/// <c>CheckpointNotFound</c>, <c>CheckpointCorrupt</c> (not a readable PyTorch file), <c>CheckpointInvalid</c>
/// (readable, but not a Tacotron 2 state dict this model accepts: the message lists the keys and shapes),
/// <c>ParityInputInvalid</c> (a bad .npz).
/// </summary>
public sealed class InteropException : Exception
{
    /// <summary>Creates the exception for <paramref name="path"/>.</summary>
    public InteropException(string errorId, string path, string reason)
        : base($"'{path}': {reason}.")
    {
        ErrorId = errorId;
        Path = path;
        Reason = reason;
    }

    /// <summary>Stable error id (see the class remarks).</summary>
    public string ErrorId { get; }
    /// <summary>The offending file.</summary>
    public string Path { get; }
    /// <summary>What is wrong.</summary>
    public string Reason { get; }
}
