using System.Buffers;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace TacotronRecovery.Core.Runs;

/// <summary>
/// Readers of the run directory's append-only JSON-lines files (<c>metrics.jsonl</c>, <c>alignment.jsonl</c>,
/// <c>events.jsonl</c>): one record per line in the <see cref="RunJson"/> dialect.
/// <para>
/// All readers stream (memory stays flat however long the file), never throw on a bad line and never hold the
/// file open between items longer than the enumeration: a torn or invalid line is skipped and counted in the
/// optional <see cref="JsonLinesStats"/>; blank lines are ignored; a missing file is an empty sequence. An
/// unterminated last line is yielded when it is a complete record (a file edited by hand) and otherwise reported
/// as <see cref="JsonLinesStats.TornTail"/> and left unconsumed.
/// </para>
/// </summary>
public static class JsonLines
{
    /// <summary>Default interval at which <see cref="Follow{T}"/> looks for appended lines.</summary>
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Every record of <paramref name="path"/> from byte <paramref name="startOffset"/> (default: the start), in file order.</summary>
    public static IEnumerable<T> Read<T>(string path, JsonLinesStats? stats = null, long startOffset = 0)
    {
        stats ??= new JsonLinesStats();
        stats.Position = startOffset;
        if (!File.Exists(path)) yield break;
        using var scanner = new LineScanner(path, startOffset);
        long lineNumber = 0;
        bool numbered = startOffset == 0;
        while (scanner.Next(allowUnterminated: true, out int start, out int length, out long offset, out bool terminated))
        {
            lineNumber++;
            if (TryParse(scanner, start, length, terminated, numbered ? lineNumber : 0, offset, stats, out T? record))
                yield return record!;
        }
    }

    /// <summary>
    /// Records whose top-level <c>step</c> is at least <paramref name="step"/>, in file order.
    /// <para>
    /// A forward scan: each line's <c>step</c> is peeked with a forward-only JSON reader and only lines at or past
    /// <paramref name="step"/> are deserialized. Not a binary search on purpose: after a rollback the engine appends
    /// steps again from the restored checkpoint, so steps are not monotonic in file order and a bisection could
    /// miss records. Lines without a <c>step</c> count as step 0.
    /// </para>
    /// </summary>
    public static IEnumerable<T> ReadSince<T>(string path, int step, JsonLinesStats? stats = null)
    {
        stats ??= new JsonLinesStats();
        stats.Position = 0;
        if (!File.Exists(path)) yield break;
        using var scanner = new LineScanner(path, 0);
        long lineNumber = 0;
        while (scanner.Next(allowUnterminated: true, out int start, out int length, out long offset, out bool terminated))
        {
            lineNumber++;
            if (!scanner.LastLineOversized && length > 0 && TryPeekStep(scanner.Buffer.AsSpan(start, length), out int s) && s < step)
            {
                stats.Lines++;
                stats.Position = scanner.Consumed;
                continue;
            }
            if (TryParse(scanner, start, length, terminated, lineNumber, offset, stats, out T? record))
                yield return record!;
        }
    }

    /// <summary>
    /// The records of the run's current timeline, in file order: like <see cref="Read{T}"/>, without the records a
    /// resume superseded.
    /// <para>
    /// A resumed engine (kill -9, a supervisor restart, <c>Start-TacotronTraining -Resume</c>) continues from its
    /// checkpoint at step S (event <c>Resumed</c>, step S) and appends steps S+1, S+2, … again, after the records the
    /// dead engine wrote for those steps. The rule: <b>a record is superseded by any later record whose step is at or
    /// below its own</b>, so for every step the record written last wins and the records of an abandoned stretch past
    /// the newest resume point are dropped too (their weights were never continued). Rollbacks do not renumber steps
    /// and supersede nothing. Lines without a step are kept. Two passes (the first peeks each line's step; 4 bytes per
    /// line), memory otherwise flat; lines appended between the passes are yielded as they are. Superseded records
    /// are counted in <see cref="JsonLinesStats.Superseded"/>.
    /// </para>
    /// </summary>
    public static IEnumerable<T> ReadCurrent<T>(string path, JsonLinesStats? stats = null, int? since = null)
    {
        stats ??= new JsonLinesStats();
        stats.Position = 0;
        if (!File.Exists(path)) yield break;
        var keep = CurrentLines(path);
        using var scanner = new LineScanner(path, 0);
        int lineNumber = 0;
        while (scanner.Next(allowUnterminated: true, out int start, out int length, out long offset, out bool terminated))
        {
            lineNumber++;
            bool known = lineNumber <= keep.Count;
            if (known && keep[lineNumber - 1] is { } kept && (!kept || since is { } s0 && StepOf(scanner, start, length) < s0))
            {
                // Superseded, or before 'since': consumed without deserializing.
                stats.Lines++;
                if (!kept) stats.Superseded++;
                stats.Position = scanner.Consumed;
                continue;
            }
            if (TryParse(scanner, start, length, terminated, lineNumber, offset, stats, out T? record)
                && (since is not { } s1 || StepOf(record!) >= s1))
                yield return record!;
        }
    }

    /// <summary>
    /// The records of <paramref name="records"/> (in file order, e.g. the tail of a file) that no later record in it
    /// supersedes (<see cref="ReadCurrent{T}"/>'s rule).
    /// </summary>
    public static List<T> Current<T>(IReadOnlyList<T> records, Func<T, int> step, JsonLinesStats? stats = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(step);
        var keep = new bool[records.Count];
        int minLater = int.MaxValue;
        for (int i = records.Count - 1; i >= 0; i--)
        {
            int s = step(records[i]);
            keep[i] = s < minLater;
            minLater = Math.Min(minLater, s);
        }
        var result = new List<T>(records.Count);
        for (int i = 0; i < records.Count; i++)
            if (keep[i]) result.Add(records[i]);
            else if (stats is not null) stats.Superseded++;
        return result;
    }

    /// <summary>Per line of <paramref name="path"/>: true (kept), false (superseded), null (no step: blank or unreadable).</summary>
    private static List<bool?> CurrentLines(string path)
    {
        var steps = new List<int>();
        using (var scanner = new LineScanner(path, 0))
        {
            while (scanner.Next(allowUnterminated: true, out int start, out int length, out _, out _))
                steps.Add(!scanner.LastLineOversized && length > 0 && TryPeekStep(scanner.Buffer.AsSpan(start, length), out int s) ? s : -1);
        }
        var keep = new List<bool?>(steps.Count);
        for (int i = 0; i < steps.Count; i++) keep.Add(null);
        int minLater = int.MaxValue;
        for (int i = steps.Count - 1; i >= 0; i--)
        {
            if (steps[i] < 0) continue;
            keep[i] = steps[i] < minLater;
            minLater = Math.Min(minLater, steps[i]);
        }
        return keep;
    }

    private static int StepOf(LineScanner scanner, int start, int length) =>
        TryPeekStep(scanner.Buffer.AsSpan(start, length), out int s) ? s : 0;

    private static int StepOf<T>(T record) => record switch
    {
        Metrics.StepMetrics m => m.Step,
        Metrics.AlignmentMetrics a => a.Step,
        Metrics.TrainingEvent e => e.Step,
        _ => 0,
    };

    /// <summary>
    /// The last <paramref name="count"/> valid records, oldest first. Seeks from the end of the file (reads only the
    /// tail, whatever the file size), then streams those lines forward. A line counts when it is a syntactically
    /// valid JSON object; invalid lines in the tail are skipped and do not count.
    /// </summary>
    public static IEnumerable<T> ReadLast<T>(string path, int count, JsonLinesStats? stats = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        stats ??= new JsonLinesStats();
        if (count == 0 || !File.Exists(path)) return Array.Empty<T>();
        long offset = FindTailStart(path, count);
        return Read<T>(path, stats, offset);
    }

    /// <summary>
    /// Yields the records of <paramref name="path"/> from <paramref name="startOffset"/>, then each record appended
    /// later, until <paramref name="cancellationToken"/> is cancelled (the sequence then ends; it does not throw).
    /// A line is yielded only once its terminating newline is written, so a half-written last line is waited for,
    /// never skipped. The file may not exist yet. When it shrinks below the position read (truncated or recreated),
    /// reading restarts at its beginning.
    /// </summary>
    /// <param name="path">File to follow.</param>
    /// <param name="pollInterval">How often to look for new lines; default <see cref="DefaultPollInterval"/>.</param>
    /// <param name="startOffset">Byte offset to start at, e.g. <see cref="JsonLinesStats.Position"/> of an earlier read.</param>
    /// <param name="stats">Filled while following.</param>
    /// <param name="cancellationToken">Ends the follow.</param>
    public static IEnumerable<T> Follow<T>(string path, TimeSpan? pollInterval = null, long startOffset = 0,
        JsonLinesStats? stats = null, CancellationToken cancellationToken = default)
    {
        var wait = pollInterval ?? DefaultPollInterval;
        using var cursor = new JsonLinesCursor<T>(path, startOffset, stats);
        while (!cancellationToken.IsCancellationRequested)
        {
            bool any = false;
            foreach (var record in cursor.ReadAvailable())
            {
                any = true;
                yield return record;
                if (cancellationToken.IsCancellationRequested) yield break;
            }
            if (!any && cancellationToken.WaitHandle.WaitOne(wait)) yield break;
        }
    }

    /// <summary>
    /// Byte offset at which the last <paramref name="count"/> syntactically valid lines of <paramref name="path"/> start
    /// (0 when the file holds fewer).
    /// </summary>
    public static long FindTailStart(string path, int count)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        long length = RandomAccess.GetLength(handle);
        const int block = 64 * 1024;
        var buf = ArrayPool<byte>.Shared.Rent(block);
        try
        {
            long lineEnd = length; // exclusive end of the line being assembled (its '\n' or EOF)
            long pos = length;
            int found = 0;
            while (pos > 0)
            {
                int n = (int)Math.Min(block, pos);
                pos -= n;
                ReadExactly(handle, buf.AsSpan(0, n), pos);
                var span = buf.AsSpan(0, n);
                int i = n;
                while ((i = span[..i].LastIndexOf((byte)'\n')) >= 0)
                {
                    long lineStart = pos + i + 1;
                    if (IsValidLine(handle, lineStart, lineEnd) && ++found == count) return lineStart;
                    lineEnd = pos + i;
                }
            }
            return 0;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buf);
        }
    }

    /// <summary>Reads the top-level <c>step</c> of one JSON object line without deserializing it.</summary>
    internal static bool TryPeekStep(ReadOnlySpan<byte> line, out int step)
    {
        step = 0;
        try
        {
            var reader = new Utf8JsonReader(line, isFinalBlock: true, state: default);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject) return true;
                if (reader.TokenType != JsonTokenType.PropertyName) return false;
                bool isStep = reader.ValueTextEquals("step"u8);
                if (!reader.Read()) return false;
                if (isStep) return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out step);
                reader.Skip();
            }
            return false;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    internal static bool TryParse<T>(LineScanner scanner, int start, int length, bool terminated, long lineNumber,
        long offset, JsonLinesStats stats, out T? record)
    {
        record = default;
        if (scanner.LastLineOversized)
        {
            stats.Lines++;
            stats.AddSkip(lineNumber, offset, $"line longer than {LineScanner.MaxLineBytes} bytes");
            stats.Position = scanner.Consumed;
            return false;
        }
        var span = scanner.Buffer.AsSpan(start, length);
        if (span.Trim(" \t\r"u8).IsEmpty)
        {
            stats.Position = scanner.Consumed;
            return false;
        }
        stats.Lines++;
        string? error;
        try
        {
            record = JsonSerializer.Deserialize<T>(span, RunJson.Options);
            error = record is null ? "null record" : null;
        }
        catch (JsonException e)
        {
            error = e.Message;
        }
        catch (NotSupportedException e)
        {
            error = e.Message;
        }
        if (error is null)
        {
            stats.Records++;
            stats.Position = scanner.Consumed;
            return true;
        }
        if (!terminated)
        {
            // A torn write: leave it unconsumed so that a follow picks it up once it is complete.
            stats.TornTail = true;
            stats.AddSkip(lineNumber, offset, "torn last line (no newline, not a complete record)");
            return false;
        }
        stats.AddSkip(lineNumber, offset, error);
        stats.Position = scanner.Consumed;
        return false;
    }

    private static bool IsValidLine(SafeFileHandle handle, long start, long end)
    {
        long len = end - start;
        if (len <= 0 || len > LineScanner.MaxLineBytes) return false;
        var buf = ArrayPool<byte>.Shared.Rent((int)len);
        try
        {
            var span = buf.AsSpan(0, (int)len);
            ReadExactly(handle, span, start);
            var reader = new Utf8JsonReader(span, isFinalBlock: true, state: default);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buf);
        }
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        while (!buffer.IsEmpty)
        {
            int n = RandomAccess.Read(handle, buffer, offset);
            if (n <= 0) throw new EndOfStreamException("The file shrank while it was read.");
            buffer = buffer[n..];
            offset += n;
        }
    }
}
