using System.Globalization;
using TacotronRecovery.Core.Audio;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Text;

namespace TacotronRecovery.Core.Data;

/// <summary>
/// Checks dataset rows: transcript (EmptyText, UnknownSymbols) and audio (MissingFile, NotWav, TruncatedWav,
/// UnsupportedFormat, WrongSampleRate, Stereo, TooShort, TooLong, SilenceOnly). Never throws on a bad row: every
/// problem becomes a <see cref="DatasetProblem"/> naming the line, id and file.
/// </summary>
public sealed class DatasetValidator
{
    /// <summary>Level (dBFS) below which a whole clip counts as silence.</summary>
    public const double SilenceThresholdDb = -45;

    private readonly DataOptions _options;
    private readonly TextEncoder _encoder;

    /// <summary>Creates a validator for the options' sample rate, resampling, durations, cleaners and unknown-character policy.</summary>
    /// <exception cref="ArgumentException">The options name an unknown text cleaner.</exception>
    public DatasetValidator(DataOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _encoder = new TextEncoder(options);
    }

    /// <summary>
    /// Checks every line of <paramref name="listing"/> lazily, in line order: one <see cref="RowCheck"/> per parsed row
    /// and one per line the reader could not parse (with its InvalidEncoding or MalformedLine problem).
    /// </summary>
    /// <param name="listing">What a <see cref="DatasetReader"/> read.</param>
    /// <param name="keepAudio">Keep the decoded audio in each usable check (for computing mels).</param>
    /// <param name="cancellationToken">Stops between rows.</param>
    public IEnumerable<RowCheck> CheckAll(DatasetListing listing, bool keepAudio = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(listing);
        int p = 0;
        foreach (var entry in listing.Entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            while (p < listing.Problems.Count && listing.Problems[p].Line < entry.Line)
            {
                var lp = listing.Problems[p++];
                yield return new RowCheck(lp.Line, null, [lp], null, 0, null);
            }
            yield return Check(entry, keepAudio);
        }
        while (p < listing.Problems.Count)
        {
            var lp = listing.Problems[p++];
            yield return new RowCheck(lp.Line, null, [lp], null, 0, null);
        }
    }

    /// <summary>Checks one row. Never throws for a bad row.</summary>
    /// <param name="entry">The row.</param>
    /// <param name="keepAudio">Keep the decoded audio in the result when the row is usable.</param>
    public RowCheck Check(DatasetEntry entry, bool keepAudio = false)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var problems = new List<DatasetProblem>();
        void Add(DatasetProblemCode code, ProblemSeverity severity, string message) => problems.Add(new DatasetProblem
        {
            Code = code, Severity = severity, Line = entry.Line, Id = entry.Id, Path = entry.AudioPath,
            Message = $"line {entry.Line} ({entry.Id}): {message}",
        });

        int[]? ids = null;
        if (string.IsNullOrWhiteSpace(entry.Text))
        {
            Add(DatasetProblemCode.EmptyText, ProblemSeverity.Error, "the transcript is empty.");
        }
        else
        {
            var encoded = _encoder.Encode(entry.Text);
            if (encoded.Unknown.Count > 0)
            {
                Add(DatasetProblemCode.UnknownSymbols, encoded.Succeeded ? ProblemSeverity.Warning : ProblemSeverity.Error,
                    encoded.Describe() + (encoded.Succeeded ? "." : "; set data.unknown_characters to Drop to drop them."));
            }
            if (encoded.Succeeded && encoded.Ids.Length == 0)
            {
                Add(DatasetProblemCode.EmptyText, ProblemSeverity.Error, "nothing of the transcript is left after cleaning.");
            }
            else if (encoded.Succeeded)
            {
                ids = encoded.Ids;
            }
        }

        double duration = 0;
        AudioClip? audio = null;
        if (!File.Exists(entry.AudioPath))
        {
            Add(DatasetProblemCode.MissingFile, ProblemSeverity.Error, $"WAV file not found: {entry.AudioPath}");
            return new RowCheck(entry.Line, entry, problems, ids, 0, null);
        }
        try
        {
            var info = WavFile.ReadInfo(entry.AudioPath);
            duration = info.DurationSeconds;
            bool readable = true;
            if (info.SampleRate != _options.SampleRate)
            {
                readable = _options.Resample;
                Add(DatasetProblemCode.WrongSampleRate, _options.Resample ? ProblemSeverity.Warning : ProblemSeverity.Error,
                    _options.Resample
                        ? $"sample rate {info.SampleRate} Hz, resampled to {_options.SampleRate} Hz."
                        : $"sample rate {info.SampleRate} Hz, expected {_options.SampleRate} Hz (resampling is off).");
            }
            if (info.Channels > 1)
            {
                Add(DatasetProblemCode.Stereo, ProblemSeverity.Warning, $"{info.Channels} channels, down-mixed to mono.");
            }
            var d = duration.ToString("0.###", CultureInfo.InvariantCulture);
            if (duration < _options.MinDurationSeconds)
            {
                Add(DatasetProblemCode.TooShort, ProblemSeverity.Error, $"{d} s is shorter than the minimum {_options.MinDurationSeconds.ToString(CultureInfo.InvariantCulture)} s.");
            }
            else if (duration > _options.MaxDurationSeconds)
            {
                Add(DatasetProblemCode.TooLong, ProblemSeverity.Error, $"{d} s is longer than the maximum {_options.MaxDurationSeconds.ToString(CultureInfo.InvariantCulture)} s.");
            }
            // A row that is too short or too long is refused on its header alone: a declared hour (or a 3 GB file) is
            // never read into memory.
            if (readable && duration >= _options.MinDurationSeconds && duration <= _options.MaxDurationSeconds)
            {
                var clip = WavFile.Read(entry.AudioPath, _options.SampleRate, _options.Resample);
                if (AudioAnalysis.IsSilence(clip.Samples, SilenceThresholdDb))
                {
                    Add(DatasetProblemCode.SilenceOnly, ProblemSeverity.Error,
                        $"no part of the audio is louder than {SilenceThresholdDb.ToString(CultureInfo.InvariantCulture)} dBFS (overall {AudioAnalysis.RmsDb(clip.Samples).ToString("0.#", CultureInfo.InvariantCulture)} dBFS).");
                }
                if (keepAudio) audio = clip;
            }
        }
        catch (AudioFormatException e)
        {
            var code = e.Code switch
            {
                AudioFormatException.TruncatedWav => DatasetProblemCode.TruncatedWav,
                AudioFormatException.UnsupportedFormat => DatasetProblemCode.UnsupportedFormat,
                AudioFormatException.WrongSampleRate => DatasetProblemCode.WrongSampleRate,
                AudioFormatException.Empty => DatasetProblemCode.TooShort,
                _ => DatasetProblemCode.NotWav,
            };
            Add(code, ProblemSeverity.Error, e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Add(DatasetProblemCode.NotWav, ProblemSeverity.Error, $"cannot read {entry.AudioPath}: {e.Message}");
        }
        var check = new RowCheck(entry.Line, entry, problems, ids, duration, null);
        return check.Usable && audio is not null ? check with { Audio = audio } : check;
    }
}
