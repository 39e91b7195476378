using System.Diagnostics;
using System.Management.Automation;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Data;

namespace TacotronRecovery.Commands;

/// <summary>
/// <para type="synopsis">Checks a Tacotron dataset (LJSpeech folder or NVIDIA filelist) and reports every problem row and a summary.</para>
/// <para type="description">Reads an LJSpeech-style folder (metadata.csv with id|text|normalized, WAVs in wavs/) or an
/// NVIDIA filelist (path|text, paths relative to the filelist's folder) and checks every row the way training will:
/// the transcript (empty, characters outside the 148-symbol set) and the audio (missing, not a WAV, truncated,
/// unsupported encoding such as 8-bit, another sample rate, stereo, too short, too long, silence only). Lines that are
/// not valid UTF-8 or have no '|' are reported too. Writes one DatasetProblem per problem (Code, Severity, Line, Id,
/// Path, Message) as it goes, then one DatasetSummary. A bad row never stops the check; rows with an Error are the
/// rows training skips. Only a missing dataset is a terminating error.</para>
/// <example><code>Test-TacotronDataset -Path ./LJSpeech-1.1</code><para>Checks the whole corpus and shows the problems and the summary.</para></example>
/// <example><code>Test-TacotronDataset ./data | Where-Object Severity -eq Error | Group-Object Code</code><para>Counts the rows training would skip, by reason.</para></example>
/// <example><code>Test-TacotronDataset ./filelists/train.txt -NoResample -UnknownCharacters Drop</code><para>Checks a filelist, refusing other sample rates and dropping unknown characters with a warning.</para></example>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "TacotronDataset")]
[OutputType(typeof(DatasetProblem), typeof(DatasetSummary))]
public sealed class TestTacotronDatasetCommand : PSCmdlet
{
    private volatile bool _stopping;

    /// <summary>
    /// <para type="description">Dataset folder (with metadata.csv), a metadata.csv file, or an NVIDIA filelist.</para>
    /// </summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    public string Path { get; set; } = "";

    /// <summary>
    /// <para type="description">Sample rate the model trains at; WAVs at other rates are flagged. Default 22050.</para>
    /// </summary>
    [Parameter]
    [ValidateRange(8000, 192000)]
    public int SampleRate { get; set; } = 22050;

    /// <summary>
    /// <para type="description">Refuse WAVs at another sample rate (WrongSampleRate becomes an Error) instead of resampling them (a Warning).</para>
    /// </summary>
    [Parameter]
    public SwitchParameter NoResample { get; set; }

    /// <summary>
    /// <para type="description">Characters outside the symbol set: Error (the row is skipped, default) or Drop (dropped with a warning).</para>
    /// </summary>
    [Parameter]
    public UnknownCharacterPolicy UnknownCharacters { get; set; } = UnknownCharacterPolicy.Error;

    /// <summary>
    /// <para type="description">Text cleaners, as in the NVIDIA reference: english_cleaners (default), basic_cleaners or transliteration_cleaners.</para>
    /// </summary>
    [Parameter]
    [ValidateSet("english_cleaners", "basic_cleaners", "transliteration_cleaners")]
    public string Cleaners { get; set; } = "english_cleaners";

    /// <summary>
    /// <para type="description">Shortest usable utterance in seconds. Default 0.3.</para>
    /// </summary>
    [Parameter]
    [ValidateRange(0.0, 3600.0)]
    public double MinDurationSeconds { get; set; } = 0.3;

    /// <summary>
    /// <para type="description">Longest usable utterance in seconds. Default 12.</para>
    /// </summary>
    [Parameter]
    [ValidateRange(0.0, 3600.0)]
    public double MaxDurationSeconds { get; set; } = 12;

    /// <summary>
    /// <para type="description">Share of rows held out for validation when the folder has no validation.txt (by a hash of the id). Default 0.05.</para>
    /// </summary>
    [Parameter]
    [ValidateRange(0.0, 1.0)]
    public double ValidationFraction { get; set; } = 0.05;

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        var path = GetUnresolvedProviderPathFromPSPath(Path);
        DatasetListing listing;
        try
        {
            listing = DatasetReader.Read(path);
        }
        catch (DatasetNotFoundException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "DatasetNotFound", ErrorCategory.ObjectNotFound, e.Path));
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "DatasetUnreadable", ErrorCategory.ReadError, path));
            return;
        }

        var options = new DataOptions
        {
            SampleRate = SampleRate,
            Resample = !NoResample,
            UnknownCharacters = UnknownCharacters,
            TextCleaners = Cleaners,
            MinDurationSeconds = MinDurationSeconds,
            MaxDurationSeconds = MaxDurationSeconds,
            ValidationFraction = ValidationFraction,
        };
        var validator = new DatasetValidator(options);
        var checks = new List<RowCheck>(listing.LineCount);
        var progress = new ProgressRecord(1, "Test-TacotronDataset", $"Checking {listing.Source}");
        var clock = Stopwatch.StartNew();
        var lastProgress = TimeSpan.Zero;
        foreach (var check in validator.CheckAll(listing))
        {
            if (_stopping) break;
            checks.Add(check);
            foreach (var problem in check.Problems) WriteObject(problem);
            if (clock.Elapsed - lastProgress >= TimeSpan.FromSeconds(1))
            {
                lastProgress = clock.Elapsed;
                progress.PercentComplete = (int)(100L * checks.Count / Math.Max(1, listing.LineCount));
                progress.StatusDescription = $"{checks.Count} of {listing.LineCount} rows";
                WriteProgress(progress);
            }
        }
        if (lastProgress > TimeSpan.Zero)
        {
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
        }
        WriteObject(DatasetSummary.From(listing, checks, DatasetSplit.For(listing, ValidationFraction)));
    }

    /// <inheritdoc />
    protected override void StopProcessing() => _stopping = true;
}
