namespace TacotronRecovery.Core.Audio;

/// <summary>
/// A WAV file that cannot be used: not a WAV, truncated, an unsupported encoding, the wrong sample rate, or empty.
/// <see cref="Exception.Message"/> names the file and says what is wrong; <see cref="Code"/> is a stable id.
/// </summary>
public sealed class AudioFormatException : Exception
{
    /// <summary>The file is not a RIFF/WAVE file (or has no <c>fmt </c> chunk).</summary>
    public const string NotWav = "NotWav";

    /// <summary>The file ends before a chunk it declares (header, <c>fmt </c> or <c>data</c>) is complete.</summary>
    public const string TruncatedWav = "TruncatedWav";

    /// <summary>An encoding the reader does not decode (8-bit PCM, 64-bit float, ADPCM, µ-law, ...).</summary>
    public const string UnsupportedFormat = "UnsupportedFormat";

    /// <summary>Another sample rate than the one required, and resampling was not allowed.</summary>
    public const string WrongSampleRate = "WrongSampleRate";

    /// <summary>A zero-byte file, or a <c>data</c> chunk without samples.</summary>
    public const string Empty = "Empty";

    /// <summary>Creates the exception; the message is prefixed with the path.</summary>
    /// <param name="path">The offending file.</param>
    /// <param name="code">One of the code constants of this class.</param>
    /// <param name="detail">What is wrong, without the path.</param>
    public AudioFormatException(string path, string code, string detail)
        : base($"{path}: {detail} ({code})")
    {
        Path = path;
        Code = code;
    }

    /// <summary>The offending file.</summary>
    public string Path { get; }

    /// <summary>Stable error id: NotWav, TruncatedWav, UnsupportedFormat, WrongSampleRate or Empty.</summary>
    public string Code { get; }
}
