namespace TacotronRecovery.Commands;

/// <summary>Output of Get-TacotronRun: one run at a glance.</summary>
public sealed record TacotronRunInfo
{
    /// <summary>Run name.</summary>
    public string Run { get; init; } = "";
    /// <summary>Run directory.</summary>
    public string Path { get; init; } = "";
    /// <summary>Running, Stopped, Failed, Recovering, Completed; "Failed (engine not running)" when run.json says Running but the engine is gone.</summary>
    public string Status { get; init; } = "";
    /// <summary>Engine process id recorded in run.json.</summary>
    public int? Pid { get; init; }
    /// <summary>Last step.</summary>
    public int Step { get; init; }
    /// <summary>Run start.</summary>
    public DateTimeOffset? Started { get; init; }
    /// <summary>Last update.</summary>
    public DateTimeOffset? Updated { get; init; }
    /// <summary>Total loss of the last step.</summary>
    public double? LastLoss { get; init; }
    /// <summary>Diagonality of the last alignment measurement (0..1).</summary>
    public double? LastDiagonality { get; init; }
    /// <summary>Number of checkpoints.</summary>
    public int Checkpoints { get; init; }
    /// <summary>Device trained on.</summary>
    public string? Device { get; init; }
    /// <summary>Host of the engine.</summary>
    public string? Host { get; init; }
    /// <summary>Message from run.json (why it stopped, what recovery does).</summary>
    public string? Message { get; init; }
}
