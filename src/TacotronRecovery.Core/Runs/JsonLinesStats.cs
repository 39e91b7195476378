namespace TacotronRecovery.Core.Runs;

/// <summary>One line of a JSON-lines file that was skipped because it could not be read as a record.</summary>
/// <param name="LineNumber">1-based line number, or 0 when the line was reached by seeking (ReadLast, a cursor not started at 0).</param>
/// <param name="Offset">Byte offset of the line's start.</param>
/// <param name="Reason">Why it was skipped (the parser's message, or "torn last line").</param>
public sealed record JsonLinesSkip(long LineNumber, long Offset, string Reason);

/// <summary>
/// What a JSON-lines read saw. Filled while the sequence is enumerated, so read it after the enumeration ends
/// (or between items for a follow).
/// </summary>
public sealed class JsonLinesStats
{
    /// <summary>At most this many skips are kept in <see cref="Skips"/>; <see cref="Skipped"/> counts them all.</summary>
    public const int MaxSkipsKept = 100;

    private readonly List<JsonLinesSkip> _skips = new();

    /// <summary>Non-blank lines looked at (including skipped and filtered ones).</summary>
    public long Lines { get; internal set; }

    /// <summary>Records yielded.</summary>
    public long Records { get; internal set; }

    /// <summary>Lines that were not valid records: torn, invalid JSON, wrong shape, or longer than the line limit.</summary>
    public long Skipped { get; internal set; }

    /// <summary>
    /// Valid records left out because a later record has a step at or below theirs: written before a resume, on the
    /// timeline the resume abandoned (<see cref="JsonLines.ReadCurrent{T}"/>).
    /// </summary>
    public long Superseded { get; internal set; }

    /// <summary>True when the file ended with an unterminated line that was not a valid record (a torn write).</summary>
    public bool TornTail { get; internal set; }

    /// <summary>
    /// Byte offset just past the last line consumed. A follow or a later read started here sees only newer lines;
    /// a torn last line is not consumed, so it is read again once its writer completes it.
    /// </summary>
    public long Position { get; internal set; }

    /// <summary>The first <see cref="MaxSkipsKept"/> skipped lines.</summary>
    public IReadOnlyList<JsonLinesSkip> Skips => _skips;

    internal void AddSkip(long lineNumber, long offset, string reason)
    {
        Skipped++;
        if (_skips.Count < MaxSkipsKept) _skips.Add(new JsonLinesSkip(lineNumber, offset, reason));
    }
}
