using System.Text;

namespace TacotronRecovery.Core.Data;

/// <summary>
/// Reads LJSpeech metadata (<c>metadata.csv</c>: <c>id|text|normalized</c>, WAVs in <c>wavs/&lt;id&gt;.wav</c>) and
/// NVIDIA filelists (<c>path|text</c>, the path relative to the filelist's folder or absolute). Each line is decoded
/// as strict UTF-8 on its own, so one bad line is reported (InvalidEncoding) without losing the others; lines without
/// a '|' are reported as MalformedLine; blank lines are ignored. Line numbers are 1-based.
/// </summary>
public static class DatasetReader
{
    /// <summary>The LJSpeech metadata file name.</summary>
    public const string MetadataFileName = "metadata.csv";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Reads a dataset given as a folder (LJSpeech layout), a <c>metadata.csv</c>, or any other file (a filelist).
    /// </summary>
    /// <exception cref="DatasetNotFoundException">Nothing exists at <paramref name="path"/>, or the folder has no metadata.csv.</exception>
    public static DatasetListing Read(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full)) return ReadLJSpeech(full);
        if (File.Exists(full))
        {
            return string.Equals(System.IO.Path.GetFileName(full), MetadataFileName, StringComparison.OrdinalIgnoreCase)
                ? ReadLJSpeech(System.IO.Path.GetDirectoryName(full)!)
                : ReadFilelist(full);
        }
        throw new DatasetNotFoundException(full, $"Dataset not found: '{full}' is neither a folder with {MetadataFileName} nor a filelist.");
    }

    /// <summary>Reads an LJSpeech-style folder: <c>metadata.csv</c> (<c>id|text|normalized</c>) and <c>wavs/</c>.</summary>
    /// <exception cref="DatasetNotFoundException">The folder or its metadata.csv does not exist.</exception>
    public static DatasetListing ReadLJSpeech(string folder)
    {
        var root = System.IO.Path.GetFullPath(folder);
        if (!Directory.Exists(root)) throw new DatasetNotFoundException(root, $"Dataset folder not found: '{root}'.");
        var metadata = System.IO.Path.Combine(root, MetadataFileName);
        if (!File.Exists(metadata)) throw new DatasetNotFoundException(metadata, $"Dataset folder '{root}' has no {MetadataFileName} (expected lines 'id|text|normalized').");
        var wavs = System.IO.Path.Combine(root, "wavs");
        return Parse(metadata, root, (line, cols) =>
        {
            var id = cols[0].Trim();
            if (id.Length == 0) return null;
            var text = cols.Length >= 3 && cols[2].Trim().Length > 0 ? cols[2] : cols[1];
            return new DatasetEntry(line, id, text.Trim(), System.IO.Path.Combine(wavs, id + ".wav"));
        }, "id|text|normalized");
    }

    /// <summary>Reads an NVIDIA filelist: <c>path|text</c> per line (further columns, e.g. a speaker id, are ignored).</summary>
    /// <exception cref="DatasetNotFoundException">The filelist does not exist.</exception>
    public static DatasetListing ReadFilelist(string filelist)
    {
        var full = System.IO.Path.GetFullPath(filelist);
        if (!File.Exists(full)) throw new DatasetNotFoundException(full, $"Filelist not found: '{full}'.");
        var root = System.IO.Path.GetDirectoryName(full)!;
        return Parse(full, root, (line, cols) =>
        {
            var rel = cols[0].Trim();
            if (rel.Length == 0) return null;
            var wav = System.IO.Path.GetFullPath(System.IO.Path.IsPathRooted(rel) ? rel : System.IO.Path.Combine(root, rel));
            return new DatasetEntry(line, System.IO.Path.GetFileNameWithoutExtension(wav), cols[1].Trim(), wav);
        }, "path|text");
    }

    /// <summary>Largest metadata file or filelist read (LJSpeech's is 3.7 MB); a larger one is one MalformedLine problem.</summary>
    public const long MaxFileBytes = 512L * 1024 * 1024;

    /// <summary>Longest line read; a longer one is a MalformedLine problem.</summary>
    public const int MaxLineBytes = 1024 * 1024;

    private static DatasetListing Parse(string source, string root, Func<int, string[], DatasetEntry?> parseRow, string expected)
    {
        var entries = new List<DatasetEntry>();
        var problems = new List<DatasetProblem>();
        var name = System.IO.Path.GetFileName(source);
        long size = new FileInfo(source).Length;
        if (size > MaxFileBytes)
        {
            problems.Add(new DatasetProblem
            {
                Code = DatasetProblemCode.MalformedLine, Severity = ProblemSeverity.Error, Line = 0, Path = source,
                Message = $"{name}: {size:N0} bytes, more than the {MaxFileBytes / (1024 * 1024)} MiB a metadata file or filelist may have; not read.",
            });
            return new DatasetListing(source, root, entries, problems, 0);
        }
        var bytes = File.ReadAllBytes(source);
        int lineCount = 0;
        int start = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
        for (int lineNo = 1; start < bytes.Length; lineNo++)
        {
            int end = Array.IndexOf(bytes, (byte)'\n', start);
            if (end < 0) end = bytes.Length;
            var span = bytes.AsSpan(start, end - start);
            if (span.Length > 0 && span[^1] == (byte)'\r') span = span[..^1];
            start = end + 1;
            if (span.Length > MaxLineBytes)
            {
                lineCount++;
                problems.Add(new DatasetProblem
                {
                    Code = DatasetProblemCode.MalformedLine, Severity = ProblemSeverity.Error, Line = lineNo, Path = source,
                    Message = $"{name} line {lineNo}: {span.Length:N0} bytes long, more than {MaxLineBytes / 1024} KiB (expected '{expected}').",
                });
                continue;
            }

            string line;
            try
            {
                line = StrictUtf8.GetString(span);
            }
            catch (DecoderFallbackException e)
            {
                lineCount++;
                var bar = span.IndexOf((byte)'|');
                var head = Encoding.UTF8.GetString(bar >= 0 ? span[..bar] : span).Trim();
                var offset = e.Index >= 0 ? e.Index : 0;
                var bad = e.BytesUnknown is { Length: > 0 } b ? string.Join(" ", b.Select(x => $"0x{x:X2}")) : "?";
                problems.Add(new DatasetProblem
                {
                    Code = DatasetProblemCode.InvalidEncoding,
                    Severity = ProblemSeverity.Error,
                    Line = lineNo,
                    Id = bar >= 0 ? IdOf(head) : "",
                    Path = source,
                    Message = $"{name} line {lineNo}: not valid UTF-8 (byte {bad} at byte {offset + 1} of the line); save the file as UTF-8.",
                });
                continue;
            }
            if (line.Trim().Length == 0) continue;
            lineCount++;
            var cols = line.Split('|');
            var entry = cols.Length >= 2 ? parseRow(lineNo, cols) : null;
            if (entry is null)
            {
                problems.Add(new DatasetProblem
                {
                    Code = DatasetProblemCode.MalformedLine,
                    Severity = ProblemSeverity.Error,
                    Line = lineNo,
                    Path = source,
                    Message = cols.Length < 2
                        ? $"{name} line {lineNo}: no '|' separator (expected '{expected}')."
                        : $"{name} line {lineNo}: the first column is empty (expected '{expected}').",
                });
                continue;
            }
            entries.Add(entry);
        }
        return new DatasetListing(source, root, entries, problems, lineCount);
    }

    private static string IdOf(string head) => head.Contains('/') || head.Contains('\\') || head.EndsWith(".wav", StringComparison.OrdinalIgnoreCase)
        ? System.IO.Path.GetFileNameWithoutExtension(head)
        : head;
}
