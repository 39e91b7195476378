namespace TacotronRecovery.Core.Runs;

/// <summary>
/// Replaces a file so that a reader sees either the whole old content or the whole new content, never a mix, and a
/// crash or a throwing writer leaves the old file intact: the content goes to a temporary file in the same folder
/// (same file system, so the rename is atomic), is flushed and fsync'ed, then renamed over the target.
/// </summary>
public static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="path"/> through <paramref name="write"/>. When <paramref name="write"/> throws, the
    /// temporary file is removed, the exception propagates and the existing file is unchanged.
    /// </summary>
    /// <param name="path">Target file; its folder is created when missing.</param>
    /// <param name="write">Writes the complete new content to the stream it is given.</param>
    /// <param name="fsync">Flush to the storage device before the rename (default true).</param>
    public static void Write(string path, Action<Stream> write, bool fsync = true)
    {
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920))
            {
                write(fs);
                fs.Flush(flushToDisk: fsync);
            }
            WriteWindow.Pause();
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Atomically replaces <paramref name="path"/> with <paramref name="bytes"/>.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes, bool fsync = true)
    {
        var copy = bytes.ToArray();
        Write(path, s => s.Write(copy, 0, copy.Length), fsync);
    }

    /// <summary>Atomically replaces <paramref name="path"/> with <paramref name="text"/> as UTF-8 without BOM.</summary>
    public static void WriteAllText(string path, string text, bool fsync = true) =>
        WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text), fsync);

    private static void TryDelete(string file)
    {
        try { File.Delete(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
