namespace TacotronRecovery.Core.Checkpoints;

/// <summary>A checkpoint chosen as a restore target, with the candidates rejected on the way.</summary>
/// <param name="Entry">The chosen entry.</param>
/// <param name="Path">Its file.</param>
/// <param name="Verification">Its (successful) verification.</param>
/// <param name="Rejected">Newer candidates whose files failed verification, newest first (log them).</param>
public sealed record CheckpointSelection(CheckpointEntry Entry, string Path, CheckpointVerification Verification,
    IReadOnlyList<CheckpointVerification> Rejected);

/// <summary>
/// Chooses restore targets. Every choice verifies the file (size and SHA-256) and walks back to older candidates
/// when the newest one is missing, truncated or tampered, so a corrupt checkpoint is never loaded.
/// </summary>
public static class CheckpointSelector
{
    /// <summary>The newest Good checkpoint that verifies, or null when none does.</summary>
    public static CheckpointSelection? SelectLastGood(CheckpointManifest manifest) =>
        FirstVerified(manifest, manifest.Entries.Where(e => e.Good).Reverse());

    /// <summary>
    /// The newest Good checkpoint of <paramref name="run"/> that verifies, or null when none does, the run has no
    /// manifest or its manifest cannot be read (for messages that say where a resume would continue).
    /// </summary>
    public static CheckpointSelection? TryLastGood(Runs.RunDirectory run)
    {
        ArgumentNullException.ThrowIfNull(run);
        try { return File.Exists(run.ManifestFile) ? SelectLastGood(CheckpointManifest.Load(run.ManifestFile)) : null; }
        catch (Runs.RunDataException) { return null; }
    }

    /// <summary>
    /// Where a resume or restart of <paramref name="run"/> continues: for a run of an external command (command.json)
    /// the newest verified Good entry of checkpoints/external.json, else <see cref="TryLastGood"/>; null when none.
    /// </summary>
    public static (string Path, int Step)? TryResumeTarget(Runs.RunDirectory run)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.IsExternal) return ExternalCheckpointLedger.TryLastGood(run) is { } e ? (e.Path, e.Step) : null;
        return TryLastGood(run) is { } s ? (s.Path, s.Entry.Step) : null;
    }

    /// <summary>The newest WellAligned checkpoint that verifies, or null.</summary>
    public static CheckpointSelection? SelectLastWellAligned(CheckpointManifest manifest) =>
        FirstVerified(manifest, manifest.Entries.Where(e => e.WellAligned).Reverse());

    /// <summary>
    /// The Best checkpoint when it verifies; otherwise the next Good one by lowest finite loss (newer first on ties)
    /// that verifies; null when none does.
    /// </summary>
    public static CheckpointSelection? SelectBest(CheckpointManifest manifest) =>
        FirstVerified(manifest, manifest.Entries
            .Where(e => e.Good && double.IsFinite(e.Loss))
            .OrderByDescending(e => e.Best).ThenBy(e => e.Loss).ThenByDescending(e => e.Step));

    /// <summary>The newest entry (Good or not) that verifies, or null.</summary>
    public static CheckpointSelection? SelectLatest(CheckpointManifest manifest) =>
        FirstVerified(manifest, manifest.Entries.Reverse());

    private static CheckpointSelection? FirstVerified(CheckpointManifest manifest, IEnumerable<CheckpointEntry> candidates)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var rejected = new List<CheckpointVerification>();
        foreach (var e in candidates)
        {
            var path = manifest.PathOf(e);
            var v = CheckpointVerifier.Verify(path, e);
            if (v.IsVerified) return new CheckpointSelection(e, path, v, rejected);
            rejected.Add(v);
        }
        return null;
    }
}
