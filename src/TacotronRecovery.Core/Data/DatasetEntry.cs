namespace TacotronRecovery.Core.Data;

/// <summary>One row of a metadata file or filelist.</summary>
/// <param name="Line">1-based line number in <see cref="DatasetListing.Source"/>.</param>
/// <param name="Id">Utterance id (the WAV file name without extension).</param>
/// <param name="Text">Transcript (the normalized column of LJSpeech metadata when present).</param>
/// <param name="AudioPath">Absolute path of the WAV file.</param>
public sealed record DatasetEntry(int Line, string Id, string Text, string AudioPath);

/// <summary>What a reader found in a metadata file or filelist: parsed rows and the lines it could not parse.</summary>
/// <param name="Source">Absolute path of the metadata file or filelist.</param>
/// <param name="Root">Folder WAV paths are relative to (the dataset folder or the filelist's folder).</param>
/// <param name="Entries">Parsed rows in file order.</param>
/// <param name="Problems">Lines that could not be parsed (InvalidEncoding, MalformedLine), in file order.</param>
/// <param name="LineCount">Non-blank lines in the file (parsed + unparsable).</param>
public sealed record DatasetListing(string Source, string Root, IReadOnlyList<DatasetEntry> Entries, IReadOnlyList<DatasetProblem> Problems, int LineCount);

/// <summary>A dataset that cannot be read at all (missing folder, missing metadata.csv). The message names the path.</summary>
public sealed class DatasetNotFoundException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The missing or unusable path.</param>
    /// <param name="message">What is wrong, naming the path.</param>
    public DatasetNotFoundException(string path, string message) : base(message) => Path = path;

    /// <summary>The missing or unusable path.</summary>
    public string Path { get; }
}
