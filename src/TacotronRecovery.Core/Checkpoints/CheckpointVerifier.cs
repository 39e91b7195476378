namespace TacotronRecovery.Core.Checkpoints;

/// <summary>Outcome of checking a checkpoint file against its manifest entry.</summary>
public enum CheckpointStatus
{
    /// <summary>Size and SHA-256 match.</summary>
    Verified,
    /// <summary>The file does not exist.</summary>
    Missing,
    /// <summary>The file is shorter than recorded (an interrupted copy or write).</summary>
    Truncated,
    /// <summary>The file is longer than recorded.</summary>
    SizeMismatch,
    /// <summary>Same size, different content (tampered or bit rot).</summary>
    HashMismatch,
}

/// <summary>Result of <see cref="CheckpointVerifier.Verify"/>.</summary>
/// <param name="Path">File checked.</param>
/// <param name="Step">Step of the entry.</param>
/// <param name="Status">Outcome.</param>
/// <param name="Message">One sentence naming the file and what is wrong (or that it verified).</param>
public sealed record CheckpointVerification(string Path, int Step, CheckpointStatus Status, string Message)
{
    /// <summary>True when <see cref="Status"/> is <see cref="CheckpointStatus.Verified"/>.</summary>
    public bool IsVerified => Status == CheckpointStatus.Verified;
}

/// <summary>Checks that a checkpoint file is the one its manifest entry describes: present, same size, same SHA-256.</summary>
public static class CheckpointVerifier
{
    /// <summary>Verifies <paramref name="path"/> against <paramref name="entry"/> (size first, so a truncated file is not hashed).</summary>
    public static CheckpointVerification Verify(string path, CheckpointEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var info = new FileInfo(path);
        if (!info.Exists)
            return new(path, entry.Step, CheckpointStatus.Missing, $"Checkpoint '{path}' (step {entry.Step}) is missing.");
        if (info.Length < entry.SizeBytes)
            return new(path, entry.Step, CheckpointStatus.Truncated,
                $"Checkpoint '{path}' (step {entry.Step}) is truncated: {info.Length} of {entry.SizeBytes} bytes.");
        if (info.Length > entry.SizeBytes)
            return new(path, entry.Step, CheckpointStatus.SizeMismatch,
                $"Checkpoint '{path}' (step {entry.Step}) is {info.Length} bytes, the manifest records {entry.SizeBytes}.");
        string actual;
        try
        {
            actual = CheckpointEntry.Sha256Of(path);
        }
        catch (FileNotFoundException)
        {
            return new(path, entry.Step, CheckpointStatus.Missing, $"Checkpoint '{path}' (step {entry.Step}) is missing.");
        }
        if (!string.Equals(actual, entry.Sha256, StringComparison.OrdinalIgnoreCase))
            return new(path, entry.Step, CheckpointStatus.HashMismatch,
                $"Checkpoint '{path}' (step {entry.Step}) does not match its manifest: sha256 {actual[..12]}… instead of {(entry.Sha256.Length >= 12 ? entry.Sha256[..12] : entry.Sha256)}…; it was modified or corrupted and must not be loaded.");
        return new(path, entry.Step, CheckpointStatus.Verified, $"Checkpoint '{path}' (step {entry.Step}) verified.");
    }
}
