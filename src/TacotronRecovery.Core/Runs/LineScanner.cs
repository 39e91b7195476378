using System.Text;

namespace TacotronRecovery.Core.Runs;

/// <summary>
/// Splits a file into '\n'-terminated lines from a byte offset, with a reusable buffer (no per-line string).
/// Opened with FileShare.ReadWrite | Delete so it coexists with an appending writer. The returned line lives in
/// <see cref="Buffer"/> until the next call.
/// </summary>
internal sealed class LineScanner : IDisposable
{
    internal const int MaxLineBytes = 16 * 1024 * 1024;
    private FileStream _fs;
    private readonly string _path;
    private byte[] _buf = new byte[64 * 1024];
    private int _start, _end;
    private long _bufOffset;
    private bool _eof;
    private bool _discarding; // inside a line longer than MaxLineBytes
    private long _discardOffset;

    public LineScanner(string path, long offset)
    {
        _path = path;
        _fs = Open(path, offset);
        _bufOffset = offset;
    }

    internal static FileStream Open(string path, long offset)
    {
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
        if (offset > 0) fs.Seek(offset, SeekOrigin.Begin);
        return fs;
    }

    public byte[] Buffer => _buf;

    /// <summary>Offset just past the last line returned.</summary>
    public long Consumed => _bufOffset + _start;

    /// <summary>Set when the last returned line was longer than the limit (its content is not returned).</summary>
    public bool LastLineOversized { get; private set; }

    /// <summary>
    /// Next line: [start, start+length) in <see cref="Buffer"/>, without '\n' and a trailing '\r'. At end of file an
    /// unterminated tail is returned only when <paramref name="allowUnterminated"/> (and then consumed); otherwise it
    /// stays unconsumed for a later <see cref="Refresh"/>.
    /// </summary>
    public bool Next(bool allowUnterminated, out int start, out int length, out long lineOffset, out bool terminated)
    {
        while (true)
        {
            int nl = _buf.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (nl >= 0)
            {
                start = _start; length = nl; lineOffset = _discarding ? _discardOffset : _bufOffset + _start; terminated = true;
                _start += nl + 1;
                LastLineOversized = _discarding;
                _discarding = false;
                if (length > 0 && _buf[start + length - 1] == (byte)'\r') length--;
                if (LastLineOversized) length = 0;
                return true;
            }
            if (_eof)
            {
                if (_end > _start && allowUnterminated)
                {
                    start = _start; length = _end - _start; lineOffset = _discarding ? _discardOffset : _bufOffset + _start; terminated = false;
                    _start = _end;
                    LastLineOversized = _discarding;
                    _discarding = false;
                    if (LastLineOversized) length = 0;
                    return true;
                }
                start = length = 0; lineOffset = Consumed; terminated = false;
                return false;
            }
            if (_end - _start >= MaxLineBytes)
            {
                // Drop the bytes of an over-long line but remember where it started: it is reported as oversized.
                if (!_discarding) _discardOffset = _bufOffset + _start;
                _discarding = true;
                _bufOffset += _end;
                _start = _end = 0;
            }
            else if (_start > 0)
            {
                Array.Copy(_buf, _start, _buf, 0, _end - _start);
                _bufOffset += _start;
                _end -= _start;
                _start = 0;
            }
            if (_end == _buf.Length) Array.Resize(ref _buf, Math.Min(_buf.Length * 2, MaxLineBytes + 1));
            int n = _fs.Read(_buf, _end, _buf.Length - _end);
            if (n == 0) _eof = true; else _end += n;
        }
    }

    /// <summary>
    /// Looks for data appended since end of file. Returns false when the file was truncated or replaced below the
    /// consumed offset (the caller decides what to do).
    /// </summary>
    public bool Refresh()
    {
        _eof = false;
        try
        {
            return _fs.Length >= _bufOffset + _end;
        }
        catch (IOException) { return false; }
    }

    /// <summary>Reopens at offset 0 (after truncation or replacement).</summary>
    public void Restart()
    {
        _fs.Dispose();
        _fs = Open(_path, 0);
        _bufOffset = 0; _start = _end = 0; _eof = false; _discarding = false;
    }

    public static string Describe(byte[] buf, int start, int length) =>
        Encoding.UTF8.GetString(buf, start, Math.Min(length, 60));

    public void Dispose() => _fs.Dispose();
}
