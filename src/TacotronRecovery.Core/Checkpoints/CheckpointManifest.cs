using System.Text.Json;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Checkpoints;

/// <summary>
/// <c>checkpoints/manifest.json</c>: every checkpoint of a run with its SHA-256, step, config hash and health at
/// save. Saved atomically (temp file, fsync, rename), so a reader never sees half a manifest. File shape:
/// <code>{ "version": 1, "well_aligned_threshold": 0.5, "checkpoints": [ { "file": "step-000500.ckpt", "step": 500, ... } ] }</code>
/// Not thread-safe: one engine (holding the run lock) writes it.
/// </summary>
public sealed class CheckpointManifest
{
    /// <summary>Diagonality from which a Good checkpoint counts as well aligned, unless the manifest says otherwise.</summary>
    public const double DefaultWellAlignedThreshold = 0.5;

    private readonly List<CheckpointEntry> _entries = new();

    /// <summary>An empty manifest at <paramref name="path"/> (nothing is written until <see cref="Save"/>).</summary>
    public CheckpointManifest(string path, double wellAlignedThreshold = DefaultWellAlignedThreshold)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory = System.IO.Path.GetDirectoryName(Path)!;
        WellAlignedThreshold = wellAlignedThreshold;
    }

    /// <summary>Full path of manifest.json.</summary>
    public string Path { get; }

    /// <summary>The checkpoints folder (entries' files are relative to it).</summary>
    public string Directory { get; }

    /// <summary>Diagonality at or above which a Good entry is WellAligned.</summary>
    public double WellAlignedThreshold { get; }

    /// <summary>Entries, oldest step first.</summary>
    public IReadOnlyList<CheckpointEntry> Entries => _entries;

    /// <summary>
    /// Reads <paramref name="path"/>; a missing file is an empty manifest. An unreadable one throws
    /// <see cref="RunDataException"/> ManifestCorrupt naming the file.
    /// </summary>
    /// <param name="path">manifest.json.</param>
    /// <param name="wellAlignedThreshold">Overrides the threshold stored in the file (for entries added from now on).</param>
    public static CheckpointManifest Load(string path, double? wellAlignedThreshold = null)
    {
        if (!File.Exists(path)) return new CheckpointManifest(path, wellAlignedThreshold ?? DefaultWellAlignedThreshold);
        ManifestFile? file;
        try
        {
            file = JsonSerializer.Deserialize<ManifestFile>(File.ReadAllBytes(path), RunJson.Options);
            if (file is null) throw new JsonException("the file holds null");
            if (file.Version != 1) throw new JsonException($"unsupported version {file.Version} (expected 1)");
        }
        catch (JsonException e)
        {
            throw new RunDataException("ManifestCorrupt", path,
                $"The checkpoint manifest '{path}' is corrupt ({e.Message}). Checkpoints cannot be verified until it is restored or rebuilt.", e);
        }
        var m = new CheckpointManifest(path, wellAlignedThreshold ?? file.WellAlignedThreshold);
        foreach (var (e, i) in (file.Checkpoints ?? new List<CheckpointEntry>()).Select((e, i) => (e, i)))
        {
            if (string.IsNullOrWhiteSpace(e.File) || e.File.Contains('/') || e.File.Contains('\\') || e.File is "." or "..")
                throw new RunDataException("ManifestCorrupt", path,
                    $"The checkpoint manifest '{path}' is corrupt: checkpoints[{i}].file '{e.File}' is not a plain file name.");
            m._entries.Add(e);
        }
        m.Sort();
        return m;
    }

    /// <summary>Writes the manifest atomically.</summary>
    public void Save()
    {
        var options = new JsonSerializerOptions(RunJson.Options) { WriteIndented = true };
        var file = new ManifestFile { Version = 1, WellAlignedThreshold = WellAlignedThreshold, Checkpoints = _entries.ToList() };
        AtomicFile.Write(Path, s => JsonSerializer.Serialize(s, file, options));
    }

    /// <summary>Full path of an entry's file.</summary>
    public string PathOf(CheckpointEntry entry) => System.IO.Path.Combine(Directory, entry.File);

    /// <summary>
    /// Adds <paramref name="entry"/>, replacing an entry with the same file name. Sets its WellAligned flag
    /// (Good and Diagonality ≥ <see cref="WellAlignedThreshold"/>) and recomputes Best over all entries.
    /// Returns the stored entry.
    /// </summary>
    public CheckpointEntry AddOrUpdate(CheckpointEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (string.IsNullOrWhiteSpace(entry.File) || entry.File != System.IO.Path.GetFileName(entry.File))
            throw new ArgumentException($"Checkpoint file '{entry.File}' must be a plain file name inside the checkpoints folder.", nameof(entry));
        var stored = entry with { WellAligned = entry.Good && entry.Diagonality is { } d && d >= WellAlignedThreshold, Best = false };
        _entries.RemoveAll(e => string.Equals(e.File, entry.File, StringComparison.Ordinal));
        _entries.Add(stored);
        Sort();
        RecomputeBest();
        return _entries.First(e => e.File == entry.File);
    }

    /// <summary>Removes the entry for <paramref name="file"/> (the file itself is not touched). True when there was one.</summary>
    public bool Remove(string file)
    {
        bool removed = _entries.RemoveAll(e => string.Equals(e.File, file, StringComparison.Ordinal)) > 0;
        if (removed) RecomputeBest();
        return removed;
    }

    /// <summary>The newest Good entry (by step), without verifying its file.</summary>
    public CheckpointEntry? NewestGood => _entries.LastOrDefault(e => e.Good);

    /// <summary>The newest WellAligned entry, without verifying its file.</summary>
    public CheckpointEntry? NewestWellAligned => _entries.LastOrDefault(e => e.WellAligned);

    /// <summary>The Best entry, without verifying its file.</summary>
    public CheckpointEntry? Best => _entries.FirstOrDefault(e => e.Best);

    /// <summary>
    /// Entries keep-N pruning would remove: all but the <paramref name="keep"/> newest, except that the newest
    /// Good, the newest WellAligned and the Best entry are always kept, and so are the files in <paramref name="alsoKeep"/>
    /// (checkpoints waiting to be confirmed Good). Oldest first.
    /// </summary>
    public IReadOnlyList<CheckpointEntry> PlanPrune(int keep, IEnumerable<string>? alsoKeep = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        var protectedFiles = new HashSet<string?>(StringComparer.Ordinal) { NewestGood?.File, NewestWellAligned?.File, Best?.File };
        protectedFiles.UnionWith(alsoKeep ?? Array.Empty<string>());
        var newest = _entries.Skip(Math.Max(0, _entries.Count - keep)).Select(e => e.File).ToHashSet(StringComparer.Ordinal);
        return _entries.Where(e => !newest.Contains(e.File) && !protectedFiles.Contains(e.File)).ToList();
    }

    /// <summary>
    /// Applies <see cref="PlanPrune"/>: removes the entries, saves the manifest, then deletes their files (in that
    /// order, so a crash leaves at worst an orphan file, never an entry without its file). Returns what was removed.
    /// </summary>
    public IReadOnlyList<CheckpointEntry> Prune(int keep, IEnumerable<string>? alsoKeep = null)
    {
        var doomed = PlanPrune(keep, alsoKeep);
        if (doomed.Count == 0) return doomed;
        foreach (var e in doomed) _entries.Remove(e);
        RecomputeBest();
        Save();
        foreach (var e in doomed)
        {
            try { File.Delete(PathOf(e)); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        }
        return doomed;
    }

    private void Sort() => _entries.Sort((a, b) => a.Step != b.Step ? a.Step.CompareTo(b.Step) : a.Created.CompareTo(b.Created));

    private void RecomputeBest()
    {
        CheckpointEntry? best = null;
        foreach (var e in _entries)
            if (e.Good && double.IsFinite(e.Loss) && (best is null || e.Loss <= best.Loss)) best = e;
        for (int i = 0; i < _entries.Count; i++)
        {
            bool isBest = ReferenceEquals(_entries[i], best);
            if (_entries[i].Best != isBest) _entries[i] = _entries[i] with { Best = isBest };
        }
    }

    private sealed record ManifestFile
    {
        public int Version { get; init; }
        public double WellAlignedThreshold { get; init; } = DefaultWellAlignedThreshold;
        public List<CheckpointEntry>? Checkpoints { get; init; }
    }
}
