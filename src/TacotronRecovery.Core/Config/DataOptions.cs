namespace TacotronRecovery.Core.Config;

/// <summary>How unknown characters in transcripts are handled.</summary>
public enum UnknownCharacterPolicy
{
    /// <summary>The row is reported as a problem and skipped in training.</summary>
    Error,
    /// <summary>The characters are dropped with a warning naming the row.</summary>
    Drop,
}

/// <summary>Dataset location and audio feature parameters (NVIDIA reference defaults).</summary>
public sealed record DataOptions
{
    /// <summary>Dataset root: an LJSpeech-style folder (<c>metadata.csv</c> + <c>wavs/</c>). Relative paths are relative to the config file.</summary>
    public string? Path { get; init; }

    /// <summary>Optional NVIDIA filelist (<c>path|text</c> per line) for training; overrides the metadata split.</summary>
    public string? TrainFilelist { get; init; }

    /// <summary>Optional NVIDIA filelist for validation.</summary>
    public string? ValidationFilelist { get; init; }

    /// <summary>Share of rows held out for validation when no validation filelist is given (deterministic by id).</summary>
    public double ValidationFraction { get; init; } = 0.05;

    /// <summary>Text cleaners, as in the reference (<c>english_cleaners</c>, <c>basic_cleaners</c>, <c>transliteration_cleaners</c>).</summary>
    public string TextCleaners { get; init; } = "english_cleaners";

    /// <summary>Unknown characters: error (skip the row) or drop (with a warning).</summary>
    public UnknownCharacterPolicy UnknownCharacters { get; init; } = UnknownCharacterPolicy.Error;

    /// <summary>Sample rate the model is trained at.</summary>
    public int SampleRate { get; init; } = 22050;

    /// <summary>Resample WAVs with another sample rate (true) or refuse them (false).</summary>
    public bool Resample { get; init; } = true;

    /// <summary>FFT size.</summary>
    public int FilterLength { get; init; } = 1024;

    /// <summary>Hop between frames, in samples.</summary>
    public int HopLength { get; init; } = 256;

    /// <summary>Window length, in samples (Hann).</summary>
    public int WinLength { get; init; } = 1024;

    /// <summary>Mel bands.</summary>
    public int NMelChannels { get; init; } = 80;

    /// <summary>Lowest mel frequency, Hz.</summary>
    public double MelFmin { get; init; } = 0;

    /// <summary>Highest mel frequency, Hz.</summary>
    public double MelFmax { get; init; } = 8000;

    /// <summary>Utterances shorter than this (seconds) are skipped.</summary>
    public double MinDurationSeconds { get; init; } = 0.3;

    /// <summary>Utterances longer than this (seconds) are skipped.</summary>
    public double MaxDurationSeconds { get; init; } = 12;

    /// <summary>Folder of the mel cache; default <c>&lt;dataset&gt;/.melcache</c>.</summary>
    public string? MelCachePath { get; init; }
}
