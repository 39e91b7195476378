using System.Buffers;
using System.Text.Json;

namespace TacotronRecovery.Core.Runs;

/// <summary>
/// Appends records to a JSON-lines file, one <see cref="RunJson"/> line per record, flushed to the operating
/// system after every record (and to the device when <c>fsync</c> is set), so a reader following the file sees
/// each record at once and a killed process loses at most the record being written. Thread-safe. The file is
/// opened with FileShare.Read so readers can follow it. When the existing file ends with a torn line (a crash
/// mid-write), a newline is written first so the next record starts on a line of its own.
/// </summary>
/// <typeparam name="T">Record type.</typeparam>
public sealed class JsonLinesWriter<T> : IDisposable
{
    private readonly FileStream _fs;
    private readonly bool _fsync;
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private readonly Utf8JsonWriter _json;
    private readonly Lock _gate = new();
    private bool _disposed;

    /// <summary>Opens (or creates) <paramref name="path"/> for appending; its folder is created when missing.</summary>
    /// <param name="path">File to append to.</param>
    /// <param name="fsync">Also flush to the storage device after every record (slower; survives power loss).</param>
    public JsonLinesWriter(string path, bool fsync = false)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        _fsync = fsync;
        _fs = new FileStream(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
        long length = _fs.Length;
        if (length > 0)
        {
            _fs.Seek(length - 1, SeekOrigin.Begin);
            bool torn = _fs.ReadByte() != '\n';
            _fs.Seek(0, SeekOrigin.End);
            if (torn)
            {
                _fs.WriteByte((byte)'\n');
                _fs.Flush(_fsync);
                RepairedTornLine = true;
            }
        }
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Indented = false, Encoder = RunJson.Options.Encoder });
    }

    /// <summary>Full path of the file.</summary>
    public string Path { get; }

    /// <summary>True when opening found a torn last line and terminated it.</summary>
    public bool RepairedTornLine { get; }

    /// <summary>Records appended by this writer.</summary>
    public long Count { get; private set; }

    /// <summary>Appends one record as one line and flushes it.</summary>
    public void Append(T record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _buffer.ResetWrittenCount();
            _json.Reset(_buffer);
            JsonSerializer.Serialize(_json, record, RunJson.Options);
            _json.Flush();
            _buffer.Write("\n"u8);
            // At the end as it is now, not where this writer last wrote: another process (the PyTorch adapter, with
            // O_APPEND) may have appended since. .NET has no O_APPEND; the window left is this seek to the write.
            _fs.Seek(0, SeekOrigin.End);
            _fs.Write(_buffer.WrittenSpan);
            _fs.Flush(_fsync);
            Count++;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _json.Dispose();
            _fs.Dispose();
        }
    }
}
