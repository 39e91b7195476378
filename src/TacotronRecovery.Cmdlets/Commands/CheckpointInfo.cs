namespace TacotronRecovery.Commands;

/// <summary>Output of Get-TacotronCheckpoint: one checkpoint. Path and Run bind to recovery and synthesis cmdlets by property name.</summary>
public sealed record CheckpointInfo
{
    /// <summary>Run name.</summary>
    public string Run { get; init; } = "";
    /// <summary>Full path of the checkpoint file.</summary>
    public string Path { get; init; } = "";
    /// <summary>Step saved.</summary>
    public int Step { get; init; }
    /// <summary>Finite weights and a healthy run at save.</summary>
    public bool Good { get; init; }
    /// <summary>Good and Diagonality at or above the manifest's threshold.</summary>
    public bool WellAligned { get; init; }
    /// <summary>The run's best checkpoint (lowest loss among Good ones).</summary>
    public bool Best { get; init; }
    /// <summary>SHA-256 recorded in the manifest.</summary>
    public string? Sha256 { get; init; }
    /// <summary>Verified, Missing, Truncated, SizeMismatch, HashMismatch, NotChecked (no -Verify) or NotInManifest.</summary>
    public string Verified { get; init; } = "NotChecked";
    /// <summary>Training loss at save.</summary>
    public double? Loss { get; init; }
    /// <summary>Diagonality at save.</summary>
    public double? Diagonality { get; init; }
    /// <summary>Gate balanced accuracy at save.</summary>
    public double? GateAccuracy { get; init; }
    /// <summary>Size in bytes recorded in the manifest.</summary>
    public long? SizeBytes { get; init; }
    /// <summary>When it was written.</summary>
    public DateTimeOffset? Created { get; init; }
}
