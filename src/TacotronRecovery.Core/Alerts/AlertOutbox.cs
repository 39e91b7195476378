using System.Globalization;
using System.Text;
using System.Text.Json;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Alerts;

/// <summary>One alert kept in the outbox.</summary>
public sealed record OutboxEntry
{
    /// <summary>The alert; its photos point at the copies next to the entry.</summary>
    public Alert Alert { get; init; } = new();
    /// <summary>When the alert was accepted (orders the outbox).</summary>
    public DateTimeOffset QueuedAt { get; init; }
    /// <summary>Parts already delivered (0 = nothing; 1 = the text; 1 + k = the text and k photos).</summary>
    public int PartsSent { get; init; }
    /// <summary>Why it is here (scrubbed).</summary>
    public string Reason { get; init; } = "";
}

/// <summary>
/// The run's <c>outbox/</c>: one JSON file per alert (run-directory JSON dialect), named
/// <c>yyyyMMddTHHmmssfff-000042-critical-1a2b3c4d.json</c> so that file order is acceptance order, with copies of its
/// photos in a sibling folder <c>&lt;name&gt;.files/</c>. Photos are copied first and the JSON is written to a temporary
/// file and renamed, so an entry is either complete or absent. Alerts Telegram refused for good go to <c>failed/</c>.
/// Text is scrubbed of secrets before it is written.
/// </summary>
public sealed class AlertOutbox
{
    private static long s_sequence;
    private readonly SecretScrubber _scrubber;

    /// <summary>An outbox in <paramref name="directory"/> (created on first write).</summary>
    public AlertOutbox(string directory, SecretScrubber scrubber)
    {
        Directory = Path.GetFullPath(directory);
        _scrubber = scrubber;
    }

    /// <summary>Full path of the outbox folder.</summary>
    public string Directory { get; }

    /// <summary>Folder of permanently refused alerts.</summary>
    public string FailedDirectory => Path.Combine(Directory, "failed");

    /// <summary>Pending entries, oldest first.</summary>
    public IReadOnlyList<string> Pending()
    {
        if (!System.IO.Directory.Exists(Directory)) return Array.Empty<string>();
        return System.IO.Directory.EnumerateFiles(Directory, "*.json").Where(f => f.EndsWith(".json", StringComparison.Ordinal))
            .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal).ToArray();
    }

    /// <summary>Writes an entry; returns its path.</summary>
    public string Write(Alert alert, DateTimeOffset queuedAt, int partsSent, string reason, bool failed = false)
    {
        var folder = failed ? FailedDirectory : Directory;
        System.IO.Directory.CreateDirectory(folder);
        var seq = Interlocked.Increment(ref s_sequence);
        var id = alert.Id.Length >= 8 ? alert.Id[..8] : alert.Id;
        var name = $"{queuedAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff", CultureInfo.InvariantCulture)}-{seq:D6}-{alert.Kind.ToString().ToLowerInvariant()}-{id}";
        var photos = new List<string>();
        if (alert.Photos.Count > 0)
        {
            var files = Path.Combine(folder, name + ".files");
            System.IO.Directory.CreateDirectory(files);
            for (int i = 0; i < alert.Photos.Count; i++)
            {
                var source = alert.Photos[i];
                var target = Path.Combine(files, $"{i:D2}-{Path.GetFileName(source)}");
                if (File.Exists(source)) File.Copy(source, target, overwrite: true);
                photos.Add(Path.Combine(name + ".files", Path.GetFileName(target)));
            }
        }
        var entry = new OutboxEntry { Alert = alert with { Photos = photos }, QueuedAt = queuedAt, PartsSent = partsSent, Reason = reason };
        var path = Path.Combine(folder, name + ".json");
        WriteAtomically(path, entry);
        return path;
    }

    /// <summary>Reads an entry; its photo paths are made absolute.</summary>
    public OutboxEntry Read(string path)
    {
        var entry = JsonSerializer.Deserialize<OutboxEntry>(File.ReadAllText(path), RunJson.Options)
            ?? throw new InvalidDataException($"{Path.GetFileName(path)}: empty outbox entry");
        var folder = Path.GetDirectoryName(path)!;
        return entry with { Alert = entry.Alert with { Photos = entry.Alert.Photos.Select(p => Path.IsPathRooted(p) ? p : Path.Combine(folder, p)).ToArray() } };
    }

    /// <summary>Records progress of a partly delivered entry.</summary>
    public void UpdateProgress(string path, int partsSent, string reason)
    {
        var raw = JsonSerializer.Deserialize<OutboxEntry>(File.ReadAllText(path), RunJson.Options)!;
        WriteAtomically(path, raw with { PartsSent = partsSent, Reason = reason });
    }

    /// <summary>Deletes an entry and its photo copies.</summary>
    public void Remove(string path)
    {
        File.Delete(path);
        var files = Path.ChangeExtension(path, null) + ".files";
        if (System.IO.Directory.Exists(files)) System.IO.Directory.Delete(files, recursive: true);
    }

    /// <summary>Moves an entry (and its photos) to <c>failed/</c>; returns the new path.</summary>
    public string MoveToFailed(string path, string reason)
    {
        System.IO.Directory.CreateDirectory(FailedDirectory);
        var target = Path.Combine(FailedDirectory, Path.GetFileName(path));
        var files = Path.ChangeExtension(path, null) + ".files";
        if (System.IO.Directory.Exists(files)) System.IO.Directory.Move(files, Path.ChangeExtension(target, null) + ".files");
        var raw = JsonSerializer.Deserialize<OutboxEntry>(File.ReadAllText(path), RunJson.Options)!;
        WriteAtomically(target, raw with { Reason = reason });
        File.Delete(path);
        return target;
    }

    private void WriteAtomically(string path, OutboxEntry entry)
    {
        var json = _scrubber.Scrub(JsonSerializer.Serialize(entry, RunJson.Options));
        var temp = Path.Combine(Path.GetDirectoryName(path)!, "." + Path.GetFileName(path) + ".tmp");
        File.WriteAllText(temp, json, new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);
    }
}
