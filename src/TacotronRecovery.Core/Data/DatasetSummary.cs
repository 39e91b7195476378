namespace TacotronRecovery.Core.Data;

/// <summary>Totals of one dataset check (the last object Test-TacotronDataset writes).</summary>
public sealed record DatasetSummary
{
    /// <summary>The metadata file or filelist that was checked.</summary>
    public string Path { get; init; } = "";

    /// <summary>Non-blank lines (rows) in the file.</summary>
    public int Rows { get; init; }

    /// <summary>Rows without errors (training uses them).</summary>
    public int UsableRows { get; init; }

    /// <summary>Rows with at least one error (training skips them).</summary>
    public int SkippedRows { get; init; }

    /// <summary>Problems of severity Error.</summary>
    public int Errors { get; init; }

    /// <summary>Problems of severity Warning.</summary>
    public int Warnings { get; init; }

    /// <summary>Problem counts by code name (e.g. <c>TruncatedWav = 1</c>).</summary>
    public IReadOnlyDictionary<string, int> ProblemCounts { get; init; } = new Dictionary<string, int>();

    /// <summary>Usable rows in the training part of the split.</summary>
    public int TrainingRows { get; init; }

    /// <summary>Usable rows in the validation part of the split.</summary>
    public int ValidationRows { get; init; }

    /// <summary>How the split was made: <c>validation.txt</c> or <c>hash 5%</c>.</summary>
    public string SplitMethod { get; init; } = "";

    /// <summary>Audio of the usable rows, in hours.</summary>
    public double TotalAudioHours { get; init; }

    /// <summary>Mean duration of the usable rows, in seconds (0 when none).</summary>
    public double MeanDurationSeconds { get; init; }

    /// <summary>Shortest usable row, in seconds (0 when none).</summary>
    public double MinDurationSeconds { get; init; }

    /// <summary>Longest usable row, in seconds (0 when none).</summary>
    public double MaxDurationSeconds { get; init; }

    /// <summary>Builds the summary of checked rows.</summary>
    /// <param name="listing">The listing the rows came from.</param>
    /// <param name="rows">One check per line (see <see cref="DatasetValidator.CheckAll"/>).</param>
    /// <param name="split">The train/validation split.</param>
    public static DatasetSummary From(DatasetListing listing, IReadOnlyCollection<RowCheck> rows, DatasetSplit split)
    {
        var problems = rows.SelectMany(r => r.Problems).ToList();
        var usable = rows.Where(r => r.Usable).ToList();
        var durations = usable.Select(r => r.DurationSeconds).ToList();
        int validation = usable.Count(r => split.IsValidation(r.Entry!.Id));
        return new DatasetSummary
        {
            Path = listing.Source,
            Rows = listing.LineCount,
            UsableRows = usable.Count,
            SkippedRows = rows.Count(r => !r.Usable),
            Errors = problems.Count(p => p.Severity == ProblemSeverity.Error),
            Warnings = problems.Count(p => p.Severity == ProblemSeverity.Warning),
            ProblemCounts = problems.GroupBy(p => p.Code).OrderBy(g => g.Key).ToDictionary(g => g.Key.ToString(), g => g.Count()),
            TrainingRows = usable.Count - validation,
            ValidationRows = validation,
            SplitMethod = split.Method,
            TotalAudioHours = Math.Round(durations.Sum() / 3600, 6),
            MeanDurationSeconds = durations.Count > 0 ? Math.Round(durations.Average(), 3) : 0,
            MinDurationSeconds = durations.Count > 0 ? Math.Round(durations.Min(), 3) : 0,
            MaxDurationSeconds = durations.Count > 0 ? Math.Round(durations.Max(), 3) : 0,
        };
    }
}
