using TacotronRecovery.Core.Audio;

namespace TacotronRecovery.Core.Data;

/// <summary>The result of checking one line of a dataset.</summary>
/// <param name="Line">1-based line number.</param>
/// <param name="Entry">The parsed row, or null when the line could not be parsed (InvalidEncoding, MalformedLine).</param>
/// <param name="Problems">Problems of this line, errors and warnings.</param>
/// <param name="TokenIds">Symbol ids of the transcript, or null when the text failed.</param>
/// <param name="DurationSeconds">Audio length from the WAV header; 0 when the file could not be read.</param>
/// <param name="Audio">Decoded audio at the training sample rate, kept only when asked for; null otherwise.</param>
public sealed record RowCheck(int Line, DatasetEntry? Entry, IReadOnlyList<DatasetProblem> Problems, int[]? TokenIds, double DurationSeconds, AudioClip? Audio)
{
    /// <summary>True when the row has no error (warnings allowed): training uses it.</summary>
    public bool Usable => Entry is not null && TokenIds is not null && Problems.All(p => p.Severity != ProblemSeverity.Error);
}
