using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TacotronRecovery.Core.Runs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Checkpoints;

/// <summary>A checkpoint that cannot be used: missing, truncated, tampered or not ours. Never loaded.</summary>
public sealed class CheckpointCorruptException : Exception
{
    /// <summary>Creates the exception for <paramref name="path"/>.</summary>
    public CheckpointCorruptException(string path, string reason)
        : base($"Checkpoint '{path}' is unusable: {reason}. It was not loaded.") { Path = path; Reason = reason; }

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }
    /// <summary>What is wrong.</summary>
    public string Reason { get; }
}

/// <summary>
/// Our checkpoint container (<c>.ckpt</c>): magic <c>TRCKPT01</c>, named sections (<c>meta</c> JSON, <c>model</c>
/// TorchSharp module state, <c>optimizer</c> state), then a SHA-256 of everything before it and the end marker
/// <c>TRCKEND!</c>. The embedded hash makes a file verifiable on its own (a truncated or tampered file is refused
/// before any tensor is read); the run's manifest records the file hash as well. Written atomically. Further named
/// sections hold training-only state outside the Tacotron 2 (the MMI recogniser and its optimizer: <c>mmi</c>,
/// <c>mmi_optimizer</c>); readers that do not know them ignore them.
/// </summary>
public static class CheckpointFile
{
    private static readonly byte[] Magic = "TRCKPT01"u8.ToArray();
    private static readonly byte[] EndMarker = "TRCKEND!"u8.ToArray();
    private const int TrailerLength = 32 + 8;

    /// <summary>
    /// Writes model, optimizer, metadata and any <paramref name="extra"/> sections to <paramref name="path"/> atomically
    /// (temp file, flush, rename).
    /// </summary>
    public static void Write(string path, JsonObject meta, nn.Module model, OptimizerHelper? optimizer,
        IReadOnlyList<(string Name, Action<BinaryWriter> Save)>? extra = null)
    {
        var sections = new List<(string Name, byte[] Bytes)>
        {
            ("meta", Encoding.UTF8.GetBytes(meta.ToJsonString(RunJson.Options))),
            ("model", Serialize(w => model.save(w))),
        };
        if (optimizer is not null) sections.Add(("optimizer", Serialize(w => optimizer.save_state_dict(w))));
        foreach (var (name, save) in extra ?? Array.Empty<(string, Action<BinaryWriter>)>())
        {
            if (sections.Any(x => x.Name == name)) throw new ArgumentException($"Checkpoint section '{name}' is written twice.", nameof(extra));
            sections.Add((name, Serialize(save)));
        }

        using var body = new MemoryStream();
        using (var w = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(sections.Count);
            foreach (var (name, bytes) in sections)
            {
                w.Write(name);
                w.Write((long)bytes.Length);
                w.Write(bytes);
            }
        }
        var hash = SHA256.HashData(body.GetBuffer().AsSpan(0, (int)body.Length));
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var temp = path + ".tmp-" + Environment.ProcessId;
        try
        {
            using (var fs = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                body.Position = 0;
                body.CopyTo(fs);
                fs.Write(hash);
                fs.Write(EndMarker);
                fs.Flush(flushToDisk: true);
            }
            WriteWindow.Pause();
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            // A full disk or a lost mount: the previous file at <path> is untouched and no partial temp file is left.
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>Reads and verifies a checkpoint. Throws <see cref="CheckpointCorruptException"/> for anything unusable.</summary>
    public static LoadedCheckpoint Read(string path)
    {
        if (!File.Exists(path)) throw new CheckpointCorruptException(path, "the file does not exist");
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < Magic.Length + 4 + TrailerLength || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            if (bytes.Length >= 2 && bytes[0] == (byte)'P' && bytes[1] == (byte)'K')
                throw new CheckpointCorruptException(path, "this looks like a PyTorch (zip) checkpoint, not a TacotronRecovery one; import it with Import-TacotronCheckpoint");
            throw new CheckpointCorruptException(path, bytes.Length < Magic.Length ? "the file is truncated (too short)" : "it is not a TacotronRecovery checkpoint (bad magic)");
        }
        if (!bytes.AsSpan(bytes.Length - EndMarker.Length).SequenceEqual(EndMarker))
            throw new CheckpointCorruptException(path, "the file is truncated (end marker missing)");
        int bodyLength = bytes.Length - TrailerLength;
        var expected = bytes.AsSpan(bodyLength, 32);
        var actual = SHA256.HashData(bytes.AsSpan(0, bodyLength));
        if (!actual.AsSpan().SequenceEqual(expected))
            throw new CheckpointCorruptException(path, "the content hash does not match (the file was modified or damaged)");

        // The hash matched, so damage here means a writer bug or a forged file: still CheckpointCorrupt, never a crash.
        var sections = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes, 0, bodyLength), Encoding.UTF8);
            r.ReadBytes(Magic.Length);
            int count = r.ReadInt32();
            if (count is < 0 or > 16) throw new InvalidDataException($"{count} sections");
            for (int i = 0; i < count; i++)
            {
                var name = r.ReadString();
                long len = r.ReadInt64();
                if (len < 0 || len > r.BaseStream.Length - r.BaseStream.Position) throw new InvalidDataException($"section '{name}' of {len} bytes runs past the end");
                sections[name] = r.ReadBytes((int)len);
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException or OverflowException)
        {
            throw new CheckpointCorruptException(path, "its sections cannot be read: " + e.Message);
        }
        if (!sections.TryGetValue("meta", out var metaBytes) || !sections.ContainsKey("model"))
            throw new CheckpointCorruptException(path, "the meta or model section is missing");
        JsonObject meta;
        try { meta = JsonNode.Parse(metaBytes)?.AsObject() ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw new CheckpointCorruptException(path, "the metadata is not valid JSON: " + e.Message); }
        var extra = sections.Where(x => x.Key is not ("meta" or "model" or "optimizer")).ToDictionary(x => x.Key, x => x.Value, StringComparer.Ordinal);
        return new LoadedCheckpoint(path, meta, sections["model"], sections.GetValueOrDefault("optimizer"), extra);
    }

    private static byte[] Serialize(Action<BinaryWriter> save)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true)) save(w);
        return ms.ToArray();
    }
}

/// <summary>A verified checkpoint, not yet applied to a model. Extra: the further named sections (e.g. <c>mmi</c>).</summary>
public sealed record LoadedCheckpoint(string Path, JsonObject Meta, byte[] Model, byte[]? Optimizer,
    IReadOnlyDictionary<string, byte[]>? Extra = null)
{
    /// <summary>A further section by name (<see cref="CheckpointFile"/>), or null when the file has none.</summary>
    public byte[]? Section(string name) => Extra?.GetValueOrDefault(name);

    /// <summary>
    /// Loads a further section into <paramref name="module"/> (strict), or returns false when the file has none.
    /// </summary>
    public bool ApplySection(string name, nn.Module module)
    {
        if (Section(name) is not { } bytes) return false;
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes));
            module.load(r, strict: true);
            return true;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or EndOfStreamException)
        {
            throw new CheckpointCorruptException(Path, $"its '{name}' section does not fit ({e.Message})");
        }
    }

    /// <summary>Loads a further section's optimizer state, or returns false when the file has none.</summary>
    public bool ApplySection(string name, OptimizerHelper optimizer)
    {
        if (Section(name) is not { } bytes) return false;
        using var r = new BinaryReader(new MemoryStream(bytes));
        optimizer.load_state_dict(r);
        return true;
    }

    /// <summary>Model dimensions recorded at save.</summary>
    public TacotronRecovery.Core.Config.ModelOptions ModelOptions => MetaValue("model", n =>
        n?.Deserialize<TacotronRecovery.Core.Config.ModelOptions>(RunJson.Options)
        ?? throw new CheckpointCorruptException(Path, "its metadata has no model dimensions"));

    /// <summary>Audio and text parameters recorded at save (defaults when absent, e.g. imported files).</summary>
    public TacotronRecovery.Core.Config.DataOptions DataOptions => MetaValue("data", n =>
        n?.Deserialize<TacotronRecovery.Core.Config.DataOptions>(RunJson.Options) ?? new TacotronRecovery.Core.Config.DataOptions());

    /// <summary>Step recorded at save.</summary>
    public int Step => MetaValue("step", n => n?.GetValue<int>() ?? 0);

    /// <summary>Reads one metadata field; a field of the wrong shape is a corrupt checkpoint naming the file and the key.</summary>
    private T MetaValue<T>(string key, Func<JsonNode?, T> read)
    {
        try
        {
            return read(Meta[key]);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NotSupportedException)
        {
            throw new CheckpointCorruptException(Path, $"its metadata field '{key}' is not readable ({e.Message})");
        }
    }

    /// <summary>A model of the recorded dimensions with these weights, in eval mode.</summary>
    public TacotronRecovery.Engine.Model.Tacotron2 CreateModel()
    {
        var model = new TacotronRecovery.Engine.Model.Tacotron2("tacotron2", ModelOptions);
        try
        {
            ApplyTo(model);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return model;
    }

    /// <summary>Loads the weights into <paramref name="model"/> (strict: every key and shape must match).</summary>
    public void ApplyTo(nn.Module model)
    {
        try
        {
            using var r = new BinaryReader(new MemoryStream(Model));
            model.load(r, strict: true);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or EndOfStreamException)
        {
            throw new CheckpointCorruptException(Path, "its weights do not fit this model (" + e.Message + ")");
        }
    }

    /// <summary>Loads the optimizer state, when the checkpoint has one.</summary>
    public bool ApplyTo(OptimizerHelper optimizer)
    {
        if (Optimizer is null) return false;
        using var r = new BinaryReader(new MemoryStream(Optimizer));
        optimizer.load_state_dict(r);
        return true;
    }
}
