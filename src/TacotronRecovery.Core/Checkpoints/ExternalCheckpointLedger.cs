using System.Text.Json;
using System.Text.Json.Serialization;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Checkpoints;

/// <summary>
/// One checkpoint an external command saved (its adapter's CheckpointSaved event), as judged by the supervisor: an
/// entry of <c>checkpoints/external.json</c>.
/// </summary>
public sealed record ExternalCheckpoint
{
    /// <summary>Full path of the file (NVIDIA-format .pt, wherever the script saved it).</summary>
    public string Path { get; init; } = "";
    /// <summary>The iteration saved.</summary>
    public int Step { get; init; }
    /// <summary>True: a rollback and restart target; false: saved while unhealthy (or voided); null: healthy at save, waiting for confirmation.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public bool? Good { get; init; }
    /// <summary>Lowercase hex SHA-256 of the file when it was recorded ("" when the file was missing).</summary>
    public string Sha256 { get; init; } = "";
    /// <summary>When the supervisor recorded it.</summary>
    public DateTimeOffset Saved { get; init; }
    /// <summary>Total loss of the last finite step before the save, when there was one.</summary>
    public double? Loss { get; init; }
    /// <summary>Latest Diagonality measured before the save, when there was one.</summary>
    public double? Diagonality { get; init; }
    /// <summary>Why it is not Good (or was voided), in one sentence.</summary>
    public string? Note { get; init; }
}

/// <summary>
/// <c>checkpoints/external.json</c>: a JSON array of <see cref="ExternalCheckpoint"/> in the order they were saved (after
/// a rollback a later entry may have a lower step; "newest" always means saved last). Rewritten atomically.
/// </summary>
public sealed class ExternalCheckpointLedger
{
    private readonly List<ExternalCheckpoint> _entries;

    /// <summary>An empty ledger, or one holding <paramref name="entries"/>.</summary>
    public ExternalCheckpointLedger(IEnumerable<ExternalCheckpoint>? entries = null) => _entries = entries?.ToList() ?? [];

    /// <summary>Entries in save order.</summary>
    public IReadOnlyList<ExternalCheckpoint> Entries => _entries;

    /// <summary>Reads <paramref name="file"/>; a missing file is an empty ledger.</summary>
    /// <exception cref="RunDataException">LedgerCorrupt.</exception>
    public static ExternalCheckpointLedger Load(string file)
    {
        if (!File.Exists(file)) return new ExternalCheckpointLedger();
        try
        {
            var entries = JsonSerializer.Deserialize<List<ExternalCheckpoint>>(File.ReadAllBytes(file), RunJson.Options) ?? throw new JsonException("the file holds null");
            return new ExternalCheckpointLedger(entries);
        }
        catch (JsonException e)
        {
            throw new RunDataException("LedgerCorrupt", file, $"The checkpoint ledger '{file}' is corrupt ({e.Message}). Fix or delete it (the supervisor then knows no Good checkpoint).", e);
        }
    }

    /// <summary>Writes the ledger to <paramref name="file"/> atomically, one entry per line.</summary>
    public void Save(string file)
    {
        var lines = _entries.Select(e => "  " + JsonSerializer.Serialize(e, RunJson.Options));
        AtomicFile.WriteAllText(file, "[\n" + string.Join(",\n", lines) + (_entries.Count > 0 ? "\n" : "") + "]\n");
    }

    /// <summary>Adds an entry (an entry for the same path is replaced and the new one goes last).</summary>
    public void Add(ExternalCheckpoint entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        _entries.RemoveAll(e => string.Equals(e.Path, entry.Path, StringComparison.Ordinal));
        _entries.Add(entry);
    }

    /// <summary>Replaces the entry of <paramref name="entry"/>'s path in place (no-op when absent).</summary>
    public void Update(ExternalCheckpoint entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        int i = _entries.FindIndex(e => string.Equals(e.Path, entry.Path, StringComparison.Ordinal));
        if (i >= 0) _entries[i] = entry;
    }

    /// <summary>Entries waiting for confirmation (Good null), oldest first.</summary>
    public IReadOnlyList<ExternalCheckpoint> Pending => _entries.Where(e => e.Good is null).ToArray();

    /// <summary>
    /// The newest Good entry whose file still has its recorded SHA-256 (with <paramref name="minDiagonality"/>: only
    /// entries measured at least that well aligned). Newer Good entries whose file is missing or changed are returned in
    /// <paramref name="rejected"/> with why, newest first, so a damaged checkpoint is never restarted from.
    /// </summary>
    public ExternalCheckpoint? SelectLastGood(out IReadOnlyList<string> rejected, double? minDiagonality = null)
    {
        var list = new List<string>();
        rejected = list;
        for (int i = _entries.Count - 1; i >= 0; i--)
        {
            var e = _entries[i];
            if (e.Good != true) continue;
            if (minDiagonality is double min && !(e.Diagonality >= min)) continue;
            if (!File.Exists(e.Path))
            {
                list.Add($"Checkpoint '{e.Path}' (step {e.Step}) is missing; passed over.");
                continue;
            }
            string actual = CheckpointEntry.Sha256Of(e.Path);
            if (!string.Equals(actual, e.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                list.Add($"Checkpoint '{e.Path}' (step {e.Step}) changed since it was saved (sha256 {actual[..12]}… instead of {(e.Sha256.Length >= 12 ? e.Sha256[..12] : e.Sha256)}…); passed over.");
                continue;
            }
            return e;
        }
        return null;
    }

    /// <summary>The newest verified Good entry of <paramref name="run"/>'s ledger, or null (no ledger, unreadable, or none verifies).</summary>
    public static ExternalCheckpoint? TryLastGood(RunDirectory run)
    {
        ArgumentNullException.ThrowIfNull(run);
        try { return Load(run.ExternalLedgerFile).SelectLastGood(out _); }
        catch (RunDataException) { return null; }
    }
}
