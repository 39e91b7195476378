using System.Buffers.Binary;
using System.IO.Compression;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Interop;

/// <summary>Container format of a <c>torch.save</c> file.</summary>
public enum TorchFileFormat
{
    /// <summary>The zip container of PyTorch ≥ 1.6 (<c>archive/data.pkl</c> + <c>archive/data/N</c>).</summary>
    Zip,
    /// <summary>The legacy stream of pickles (PyTorch &lt; 1.6, or <c>_use_new_zipfile_serialization=False</c>).</summary>
    Legacy,
}

/// <summary>
/// Reads <c>torch.save</c> files without Python: the zip container and the legacy (pre-1.6) pickle stream. Tensors
/// come back as CPU TorchSharp tensors in their stored dtype (contiguous copies); everything else as plain values.
/// Nothing in the file is executed: classes other than tensors and OrderedDict stay inert markers, so a pickled whole
/// model (rather than a state dict) is reported, not run.
/// </summary>
internal static class TorchFile
{
    private const string LegacyMagic = "119547037146038801333356"; // 0x1950a86a20f9469cfc6c

    /// <summary>Reads the object stored in <paramref name="path"/>.</summary>
    public static (object? Root, TorchFileFormat Format) Read(string path)
    {
        if (!File.Exists(path)) throw new InteropException("CheckpointNotFound", path, "the file does not exist");
        using var fs = File.OpenRead(path);
        var head = new byte[4];
        int n = fs.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        fs.Position = 0;
        try
        {
            if (n == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return (ReadZip(fs), TorchFileFormat.Zip);
            if (n >= 2 && head[0] == 0x80) return (ReadLegacy(fs), TorchFileFormat.Legacy);
        }
        catch (Exception e) when (e is PickleException or InvalidDataException or EndOfStreamException or InvalidCastException or ArgumentException
            or OverflowException or FormatException or System.Runtime.InteropServices.ExternalException)
        {
            throw new InteropException("CheckpointCorrupt", path, "it is not a readable PyTorch file: " + e.Message);
        }
        if (n == 4 && System.Text.Encoding.ASCII.GetString(head) == "TRCK")
            throw new InteropException("CheckpointInvalid", path, "it is a TacotronRecovery checkpoint already, not a PyTorch one");
        throw new InteropException("CheckpointCorrupt", path, "it is not a PyTorch checkpoint (neither a zip container nor a pickle stream)");
    }

    private static object? ReadZip(Stream fs)
    {
        using var zip = new ZipArchive(fs, ZipArchiveMode.Read, leaveOpen: true);
        var pkl = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1)
            ?? throw new InvalidDataException("the zip container has no <archive>/data.pkl");
        var prefix = pkl.FullName[..^"data.pkl".Length];
        var storages = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        object Persistent(object? pid)
        {
            var t = pid as object?[] ?? throw new PickleException("unexpected persistent id");
            if (t.Length < 5 || t[0] as string != "storage") throw new PickleException("unknown persistent id kind");
            var dtype = StorageType(t[1]);
            var key = Convert.ToString(t[2], System.Globalization.CultureInfo.InvariantCulture) ?? throw new PickleException("storage key missing");
            long numel = Convert.ToInt64(t[4], System.Globalization.CultureInfo.InvariantCulture);
            if (!storages.TryGetValue(key, out var storage))
            {
                var entry = zip.GetEntry(prefix + "data/" + key) ?? throw new InvalidDataException($"storage data/{key} is missing from the zip container");
                if (numel < 0 || numel > entry.Length) throw new InvalidDataException($"storage data/{key} holds {entry.Length} bytes, fewer than its {numel} elements need");
                using var es = entry.Open();
                storage = FromBytes(es, dtype, numel);
                storages[key] = storage;
            }
            return storage;
        }
        using var ps = pkl.Open();
        using var buffered = new BufferedStream(ps);
        try
        {
            return new PickleReader(buffered, Persistent, Reduce).Load();
        }
        finally
        {
            foreach (var storage in storages.Values) storage.Dispose(); // tensors were rebuilt as copies
        }
    }

    private static object? ReadLegacy(Stream fs)
    {
        using var buffered = new BufferedStream(fs, 1 << 16);
        object NoPersistent(object? _) => throw new PickleException("unexpected persistent id in the file header");
        var magic = new PickleReader(buffered, NoPersistent, Reduce).Load();
        if (magic?.ToString() != LegacyMagic)
            throw new PickleException(magic is null ? "no PyTorch magic number" : "a pickle, but not a PyTorch file (bad magic number)");
        var version = new PickleReader(buffered, NoPersistent, Reduce).Load();
        if (version is not long v || v != 1001) throw new PickleException($"unsupported legacy protocol version {version}");
        var sysInfo = new PickleReader(buffered, NoPersistent, Reduce).Load() as PyDict;
        if (sysInfo?.Get("little_endian") is false) throw new PickleException("big-endian files are not supported");

        // Storages are read after the main pickle: hand out placeholders now, fill them in afterwards.
        var pending = new Dictionary<string, LegacyStorage>(StringComparer.Ordinal);
        object Persistent(object? pid)
        {
            var t = pid as object?[] ?? throw new PickleException("unexpected persistent id");
            if (t.Length < 5 || t[0] as string != "storage") throw new PickleException("unknown persistent id kind");
            if (t.Length > 5 && t[5] is not null) throw new PickleException("storage views (PyTorch < 0.4 files) are not supported");
            var key = Convert.ToString(t[2], System.Globalization.CultureInfo.InvariantCulture) ?? throw new PickleException("storage key missing");
            if (!pending.TryGetValue(key, out var s))
            {
                s = new LegacyStorage(key, StorageType(t[1]), Convert.ToInt64(t[4], System.Globalization.CultureInfo.InvariantCulture));
                pending[key] = s;
            }
            return s;
        }
        var views = new List<LegacyView>();
        object? LegacyReduce(PyGlobal g, object?[] args)
        {
            if (g.Module == "torch._utils" && g.Name is "_rebuild_tensor_v2" or "_rebuild_tensor" && args.Length >= 4 && args[0] is LegacyStorage ls)
            {
                var view = new LegacyView(ls, Convert.ToInt64(args[1], System.Globalization.CultureInfo.InvariantCulture), Longs(args[2]), Longs(args[3]));
                views.Add(view);
                return view;
            }
            return Reduce(g, args);
        }
        var root = new PickleReader(buffered, Persistent, LegacyReduce).Load();
        var keys = new PickleReader(buffered, NoPersistent, Reduce).Load() as List<object?> ?? throw new PickleException("the storage key list is missing");
        var sizeBuffer = new byte[8];
        foreach (var k in keys)
        {
            var key = Convert.ToString(k, System.Globalization.CultureInfo.InvariantCulture)!;
            buffered.ReadExactly(sizeBuffer);
            long numel = BinaryPrimitives.ReadInt64LittleEndian(sizeBuffer);
            if (!pending.TryGetValue(key, out var s)) throw new PickleException($"storage {key} is not referenced");
            if (numel != s.Numel) throw new PickleException($"storage {key} holds {numel} elements, its reference says {s.Numel}");
            if (numel < 0 || numel > buffered.Length - buffered.Position) throw new PickleException($"storage {key} runs past the end of the file (truncated)");
            s.Data = FromBytes(buffered, s.DType, numel);
        }
        try
        {
            return Resolve(root, views);
        }
        finally
        {
            foreach (var s in pending.Values) s.Data?.Dispose();
        }
    }

    /// <summary>Replaces the legacy placeholders (now that the storages are read) by tensors, throughout the tree.</summary>
    private static object? Resolve(object? o, List<LegacyView> views)
    {
        switch (o)
        {
            case LegacyView v:
                var data = v.Storage.Data ?? throw new PickleException($"storage {v.Storage.Key} has no data (truncated file)");
                return Rebuild(data, v.Offset, v.Size, v.Stride);
            case PyDict d:
                foreach (var (k, value) in d.Items.ToList()) d.Set(k, Resolve(value, views));
                return d;
            case List<object?> l:
                for (int i = 0; i < l.Count; i++) l[i] = Resolve(l[i], views);
                return l;
            case object?[] t:
                for (int i = 0; i < t.Length; i++) t[i] = Resolve(t[i], views);
                return t;
            default:
                return o;
        }
    }

    private sealed class LegacyStorage(string key, ScalarType dtype, long numel)
    {
        public string Key { get; } = key;
        public ScalarType DType { get; } = dtype;
        public long Numel { get; } = numel;
        public Tensor? Data { get; set; }
    }

    private sealed record LegacyView(LegacyStorage Storage, long Offset, long[] Size, long[] Stride);

    /// <summary>The calls PyTorch checkpoints make: tensor rebuilds, parameters and OrderedDict.</summary>
    private static object? Reduce(PyGlobal g, object?[] args)
    {
        switch (g.FullName)
        {
            case "collections.OrderedDict":
                return new PyDict();
            case "torch._utils._rebuild_tensor_v2":
            case "torch._utils._rebuild_tensor":
                if (args.Length < 4 || args[0] is not Tensor storage) throw new PickleException("a tensor rebuild without storage");
                return Rebuild(storage, Convert.ToInt64(args[1], System.Globalization.CultureInfo.InvariantCulture), Longs(args[2]), Longs(args[3]));
            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state":
                return args.Length > 0 ? args[0] : null;
            default:
                return null;
        }
    }

    private static Tensor Rebuild(Tensor storage, long offset, long[] size, long[] stride)
    {
        using var view = storage.as_strided(size, stride, offset);
        return view.contiguous().clone();
    }

    private static long[] Longs(object? o) => o switch
    {
        object?[] t => t.Select(x => Convert.ToInt64(x, System.Globalization.CultureInfo.InvariantCulture)).ToArray(),
        List<object?> l => l.Select(x => Convert.ToInt64(x, System.Globalization.CultureInfo.InvariantCulture)).ToArray(),
        _ => throw new PickleException("a tensor size or stride is not a tuple"),
    };

    private static ScalarType StorageType(object? o)
    {
        var name = o switch
        {
            PyGlobal g => g.Name,
            string s => s,
            _ => throw new PickleException("unknown storage type"),
        };
        return name switch
        {
            "FloatStorage" => ScalarType.Float32,
            "DoubleStorage" => ScalarType.Float64,
            "HalfStorage" => ScalarType.Float16,
            "BFloat16Storage" => ScalarType.BFloat16,
            "LongStorage" => ScalarType.Int64,
            "IntStorage" => ScalarType.Int32,
            "ShortStorage" => ScalarType.Int16,
            "CharStorage" => ScalarType.Int8,
            "ByteStorage" => ScalarType.Byte,
            "BoolStorage" => ScalarType.Bool,
            _ => throw new PickleException($"unsupported storage type {name}"),
        };
    }

    private static Tensor FromBytes(Stream s, ScalarType dtype, long numel)
    {
        var t = empty(new[] { numel }, dtype);
        long bytes = numel * t.ElementSize;
        if (bytes > int.MaxValue) throw new PickleException("a storage larger than 2 GB");
        var buffer = new byte[bytes];
        s.ReadExactly(buffer);
        t.bytes = buffer;
        return t;
    }
}
