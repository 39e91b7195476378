namespace TacotronRecovery.Core.Runs;

/// <summary>
/// An incremental reader of one JSON-lines file: each <see cref="ReadAvailable"/> yields the complete lines
/// appended since the previous call (a half-written last line waits for its newline). The building block of
/// <see cref="JsonLines.Follow{T}"/> and of following several files of a run at once.
/// </summary>
/// <typeparam name="T">Record type.</typeparam>
public sealed class JsonLinesCursor<T> : IDisposable
{
    private readonly string _path;
    private LineScanner? _scanner;
    private long _startOffset;
    private long _lineNumber;

    /// <summary>A cursor over <paramref name="path"/> starting at byte <paramref name="startOffset"/>.</summary>
    public JsonLinesCursor(string path, long startOffset = 0, JsonLinesStats? stats = null)
    {
        _path = path;
        _startOffset = startOffset;
        Stats = stats ?? new JsonLinesStats();
        Stats.Position = startOffset;
    }

    /// <summary>Counts and position.</summary>
    public JsonLinesStats Stats { get; }

    /// <summary>Byte offset just past the last complete line consumed.</summary>
    public long Position => Stats.Position;

    /// <summary>Records completed since the last call (none when the file does not exist yet).</summary>
    public IEnumerable<T> ReadAvailable()
    {
        if (_scanner is null)
        {
            if (!File.Exists(_path)) yield break;
            try { _scanner = new LineScanner(_path, _startOffset); }
            catch (FileNotFoundException) { yield break; }
            catch (DirectoryNotFoundException) { yield break; }
        }
        else if (!_scanner.Refresh())
        {
            _scanner.Restart();
            _startOffset = 0;
            _lineNumber = 0;
            Stats.Position = 0;
        }
        bool numbered = _startOffset == 0;
        while (_scanner.Next(allowUnterminated: false, out int start, out int length, out long offset, out bool terminated))
        {
            _lineNumber++;
            if (JsonLines.TryParse(_scanner, start, length, terminated, numbered ? _lineNumber : 0, offset, Stats, out T? record))
                yield return record!;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _scanner?.Dispose();
}
