using System.Security.Cryptography;

namespace TacotronRecovery.Core.Checkpoints;

/// <summary>
/// One checkpoint in <c>checkpoints/manifest.json</c>: the file, its fingerprint, and the run's health when it was
/// saved. JSON names are snake_case (<c>size_bytes</c>, <c>config_hash</c>, <c>well_aligned</c>).
/// </summary>
public sealed record CheckpointEntry
{
    /// <summary>File name relative to the checkpoints folder, e.g. <c>step-000500.ckpt</c>.</summary>
    public string File { get; init; } = "";
    /// <summary>Optimizer step saved.</summary>
    public int Step { get; init; }
    /// <summary>Lowercase hex SHA-256 of the file.</summary>
    public string Sha256 { get; init; } = "";
    /// <summary>File size in bytes.</summary>
    public long SizeBytes { get; init; }
    /// <summary>When it was written.</summary>
    public DateTimeOffset Created { get; init; }
    /// <summary><see cref="Checkpoints.ConfigHash"/> of the effective config.</summary>
    public string ConfigHash { get; init; } = "";
    /// <summary>Training loss at save (NaN when unknown or non-finite).</summary>
    public double Loss { get; init; } = double.NaN;
    /// <summary>Latest Diagonality at save (0..1), when measured.</summary>
    public double? Diagonality { get; init; }
    /// <summary>Latest gate balanced accuracy at save (0..1), when measured.</summary>
    public double? GateAccuracy { get; init; }
    /// <summary>Finite weights and a healthy run at save: a rollback target.</summary>
    public bool Good { get; init; }
    /// <summary>Good, and Diagonality at least the manifest's well-aligned threshold: the target of an attention rollback.</summary>
    public bool WellAligned { get; init; }
    /// <summary>The best checkpoint of the run (set by the manifest: the Good entry with the lowest finite loss).</summary>
    public bool Best { get; init; }

    /// <summary>
    /// An entry for the checkpoint file at <paramref name="path"/>: measures its size and SHA-256. WellAligned and
    /// Best are set by <see cref="CheckpointManifest.AddOrUpdate"/>.
    /// </summary>
    public static CheckpointEntry ForFile(string path, int step, string configHash, double loss, double? diagonality,
        double? gateAccuracy, bool good, TimeProvider? time = null) => new()
    {
        File = Path.GetFileName(path),
        Step = step,
        Sha256 = Sha256Of(path),
        SizeBytes = new FileInfo(path).Length,
        Created = (time ?? TimeProvider.System).GetUtcNow(),
        ConfigHash = configHash,
        Loss = loss,
        Diagonality = diagonality,
        GateAccuracy = gateAccuracy,
        Good = good,
    };

    /// <summary>Lowercase hex SHA-256 of a file, streamed.</summary>
    public static string Sha256Of(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(fs));
    }
}
