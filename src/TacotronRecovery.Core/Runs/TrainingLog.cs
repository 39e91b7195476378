using System.Text;

namespace TacotronRecovery.Core.Runs;

/// <summary>
/// <c>training.log</c>: the human log (<c>tail -f</c>). One line per message,
/// <c>2026-11-26T05:47:53.123Z INFO  message</c> (UTC, level padded to 5), flushed per line, thread-safe, opened
/// with FileShare.Read. Newlines inside a message are replaced by " | " so one message is one line.
/// </summary>
public sealed class TrainingLog : IDisposable
{
    private readonly StreamWriter _writer;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private bool _disposed;

    /// <summary>Opens <paramref name="path"/> for appending.</summary>
    public TrainingLog(string path, TimeProvider? time = null)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        _time = time ?? TimeProvider.System;
        var fs = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
        _writer = new StreamWriter(fs, new UTF8Encoding(false)) { AutoFlush = false };
    }

    /// <summary>Full path of the log.</summary>
    public string Path { get; }

    /// <summary>Writes an INFO line.</summary>
    public void Info(string message) => Write("INFO", message);

    /// <summary>Writes a WARN line.</summary>
    public void Warning(string message) => Write("WARN", message);

    /// <summary>Writes an ERROR line.</summary>
    public void Error(string message) => Write("ERROR", message);

    /// <summary>Writes one line with <paramref name="level"/> and flushes it.</summary>
    public void Write(string level, string message)
    {
        var text = message.Replace("\r\n", " | ").Replace('\n', ' ').Replace('\r', ' ');
        var line = $"{_time.GetUtcNow().UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ} {level,-5} {text}";
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _writer.Write(line);
            _writer.Write('\n');
            _writer.Flush();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _writer.Dispose();
        }
    }
}
