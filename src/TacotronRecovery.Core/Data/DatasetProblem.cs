namespace TacotronRecovery.Core.Data;

/// <summary>How bad a dataset problem is.</summary>
public enum ProblemSeverity
{
    /// <summary>The row cannot be used: training skips it.</summary>
    Error,
    /// <summary>The row is used, but something was changed or is worth a look (resampled, down-mixed, characters dropped).</summary>
    Warning,
}

/// <summary>Stable ids of dataset problems (see docs/data.md).</summary>
public enum DatasetProblemCode
{
    /// <summary>The WAV file named by the row does not exist.</summary>
    MissingFile,
    /// <summary>The file is not a RIFF/WAVE file.</summary>
    NotWav,
    /// <summary>The WAV file ends before its declared chunks do.</summary>
    TruncatedWav,
    /// <summary>An encoding the reader does not decode (e.g. 8-bit PCM, ADPCM).</summary>
    UnsupportedFormat,
    /// <summary>Another sample rate than the training rate: a warning when resampling is on, an error when off.</summary>
    WrongSampleRate,
    /// <summary>More than one channel: down-mixed to mono (warning).</summary>
    Stereo,
    /// <summary>The transcript is empty (or nothing is left of it).</summary>
    EmptyText,
    /// <summary>The transcript has characters outside the symbol set: an error or, with the Drop policy, a warning.</summary>
    UnknownSymbols,
    /// <summary>The audio is shorter than the minimum duration (or holds no samples).</summary>
    TooShort,
    /// <summary>The audio is longer than the maximum duration.</summary>
    TooLong,
    /// <summary>No part of the audio is louder than −45 dBFS.</summary>
    SilenceOnly,
    /// <summary>The line is not valid UTF-8.</summary>
    InvalidEncoding,
    /// <summary>The line has no '|' separator or no id/path.</summary>
    MalformedLine,
}

/// <summary>One problem found in one row of a dataset.</summary>
public sealed record DatasetProblem
{
    /// <summary>What is wrong (stable id).</summary>
    public DatasetProblemCode Code { get; init; }

    /// <summary>Error (row skipped) or Warning (row used).</summary>
    public ProblemSeverity Severity { get; init; }

    /// <summary>1-based line in the metadata file or filelist.</summary>
    public int Line { get; init; }

    /// <summary>Utterance id (the WAV file name without extension); empty when the line could not be parsed.</summary>
    public string Id { get; init; } = "";

    /// <summary>The WAV file of the row, or the metadata file/filelist for line-level problems.</summary>
    public string Path { get; init; } = "";

    /// <summary>What is wrong, naming the file or line.</summary>
    public string Message { get; init; } = "";
}
