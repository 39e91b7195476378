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
            or OverflowException or FormatException or InsufficientExecutionStackException or System.Runtime.InteropServices.ExternalException)
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
        foreach (var entry in zip.Entries) CheckNotABomb(entry);
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
                using var es = entry.Open();
                storage = FromBytes(es, dtype, numel, entry.Length, $"storage data/{key}");
                storages[key] = storage;
            }
            return storage;
        }
        using var ps = pkl.Open();
        using var buffered = new BufferedStream(ps);
        try
        {
            return new PickleReader(buffered, Persistent, Reduce, pkl.Length).Load();
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
        var magic = new PickleReader(buffered, NoPersistent, Reduce, fs.Length).Load();
        if (magic?.ToString() != LegacyMagic)
            throw new PickleException(magic is null ? "no PyTorch magic number" : "a pickle, but not a PyTorch file (bad magic number)");
        var version = new PickleReader(buffered, NoPersistent, Reduce, fs.Length).Load();
        if (version is not long v || v != 1001) throw new PickleException($"unsupported legacy protocol version {version}");
        var sysInfo = new PickleReader(buffered, NoPersistent, Reduce, fs.Length).Load() as PyDict;
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
        var root = new PickleReader(buffered, Persistent, LegacyReduce, fs.Length).Load();
        var keys = new PickleReader(buffered, NoPersistent, Reduce, fs.Length).Load() as List<object?> ?? throw new PickleException("the storage key list is missing");
        var sizeBuffer = new byte[8];
        foreach (var k in keys)
        {
            var key = Convert.ToString(k, System.Globalization.CultureInfo.InvariantCulture)!;
            buffered.ReadExactly(sizeBuffer);
            long numel = BinaryPrimitives.ReadInt64LittleEndian(sizeBuffer);
            if (!pending.TryGetValue(key, out var s)) throw new PickleException($"storage {key} is not referenced");
            if (numel != s.Numel) throw new PickleException($"storage {key} holds {numel} elements, its reference says {s.Numel}");
            s.Data = FromBytes(buffered, s.DType, numel, buffered.Length - buffered.Position, $"storage {key}");
        }
        try
        {
            return Resolve(root, views, new HashSet<object>(ReferenceEqualityComparer.Instance), new HashSet<object>(ReferenceEqualityComparer.Instance), 0);
        }
        finally
        {
            foreach (var s in pending.Values) s.Data?.Dispose();
        }
    }

    /// <summary>Replaces the legacy placeholders (now that the storages are read) by tensors, throughout the tree.</summary>
    /// <remarks>
    /// Each container is resolved once (shared ones are not walked again); a container that holds itself, or nesting
    /// deeper than <see cref="MaxNesting"/>, is a damaged or hostile file — never a stack overflow.
    /// </remarks>
    private static object? Resolve(object? o, List<LegacyView> views, HashSet<object> done, HashSet<object> open, int depth)
    {
        if (o is PyDict or List<object?> or object?[])
        {
            if (open.Contains(o)) throw new PickleException("a list, tuple or dict contains itself (a cycle; PyTorch never writes one)");
            if (!done.Add(o)) return o;
            if (depth > MaxNesting) throw new PickleException($"containers nested more than {MaxNesting} deep");
            open.Add(o);
            try
            {
                return ResolveContainer(o, views, done, open, depth);
            }
            finally
            {
                open.Remove(o);
            }
        }
        return o is LegacyView ? ResolveContainer(o, views, done, open, depth) : o;
    }

    /// <summary>Deepest nesting of containers accepted in a file (a checkpoint is about 5 deep).</summary>
    private const int MaxNesting = 1000;

    private static object? ResolveContainer(object? o, List<LegacyView> views, HashSet<object> done, HashSet<object> open, int depth)
    {
        switch (o)
        {
            case LegacyView v:
                var data = v.Storage.Data ?? throw new PickleException($"storage {v.Storage.Key} has no data (truncated file)");
                return Rebuild(data, v.Offset, v.Size, v.Stride);
            case PyDict d:
                foreach (var (k, value) in d.Items.ToList()) d.Set(k, Resolve(value, views, done, open, depth + 1));
                return d;
            case List<object?> l:
                for (int i = 0; i < l.Count; i++) l[i] = Resolve(l[i], views, done, open, depth + 1);
                return l;
            case object?[] t:
                for (int i = 0; i < t.Length; i++) t[i] = Resolve(t[i], views, done, open, depth + 1);
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
        // Checked here, not left to libtorch: a view outside its storage is a damaged file, never a native error.
        if (size.Length != stride.Length || offset < 0 || size.Any(n => n < 0) || stride.Any(n => n < 0))
            throw new PickleException($"a tensor view has an invalid shape [{string.Join(",", size)}] / strides [{string.Join(",", stride)}] / offset {offset}");
        long last = offset, elements = 1;
        for (int i = 0; i < size.Length; i++)
        {
            elements = checked(elements * size[i]);
            if (size[i] > 0) last = checked(last + (size[i] - 1) * stride[i]);
        }
        if (elements > 0 && last >= storage.NumberOfElements)
            throw new PickleException($"a tensor view [{string.Join(",", size)}] reaches element {last:N0} of a storage of {storage.NumberOfElements:N0}");
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

    /// <summary>
    /// A zip entry whose declared size is far above what it occupies in the file is a decompression bomb. PyTorch stores
    /// its entries uncompressed, so the ratio of a real checkpoint is 1.
    /// </summary>
    private static void CheckNotABomb(ZipArchiveEntry entry)
    {
        const long ratio = 100, slack = 1 << 20;
        if (entry.Length > entry.CompressedLength * ratio + slack)
            throw new InvalidDataException($"{entry.FullName} declares {entry.Length:N0} bytes from {entry.CompressedLength:N0} compressed (a decompression bomb?)");
    }

    /// <summary>Reads a storage of <paramref name="numel"/> elements, after checking that <paramref name="available"/> bytes hold it.</summary>
    private static Tensor FromBytes(Stream s, ScalarType dtype, long numel, long available, string what)
    {
        var elementSize = ElementSize(dtype);
        if (numel < 0 || numel > available / elementSize)
            throw new PickleException($"{what} declares {numel:N0} elements ({elementSize} bytes each), more than the {available:N0} bytes it has (truncated or damaged)");
        long bytes = numel * elementSize;
        if (bytes > int.MaxValue) throw new PickleException($"{what} is larger than 2 GB");
        var t = empty(new[] { numel }, dtype);
        var buffer = new byte[bytes];
        s.ReadExactly(buffer);
        t.bytes = buffer;
        return t;
    }

    private static int ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };
}
