namespace TacotronRecovery.Core.Runs;

/// <summary>
/// A run-directory file or lookup that cannot be used: a corrupt <c>run.json</c> or manifest, an unknown run, a held
/// lock. <see cref="ErrorId"/> is stable so cmdlets can report it as their ErrorId; <see cref="Target"/> names the
/// offending file, folder or run.
/// </summary>
public class RunDataException : IOException
{
    /// <summary>Creates the exception.</summary>
    public RunDataException(string errorId, string target, string message, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Target = target;
    }

    /// <summary>Stable id: RunNotFound, RunStateMissing, RunStateCorrupt, RunLocked, ManifestCorrupt.</summary>
    public string ErrorId { get; }

    /// <summary>The file, folder or run name the error is about.</summary>
    public string Target { get; }
}
