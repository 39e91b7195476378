using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Interop;

/// <summary>
/// The content of an NVIDIA-format Tacotron 2 checkpoint: the model state dict (all floating tensors converted to
/// fp32), and what train.py stores beside it. Layout <c>train.py</c> is <c>{iteration, state_dict, optimizer,
/// learning_rate}</c> (any of the extra keys may be missing); <c>state_dict</c> is a bare state dict (the published
/// pretrained file). A common <c>module.</c> prefix (DataParallel) is removed.
/// </summary>
public sealed class PyTorchCheckpoint : IDisposable
{
    private PyTorchCheckpoint(string path, TorchFileFormat format, string layout, IReadOnlyDictionary<string, Tensor> stateDict,
        IReadOnlyList<string> keyOrder, bool halfPrecision, int? iteration, double? learningRate, object? optimizer)
    {
        Path = path;
        Format = format;
        Layout = layout;
        StateDict = stateDict;
        KeyOrder = keyOrder;
        HalfPrecision = halfPrecision;
        Iteration = iteration;
        LearningRate = learningRate;
        OptimizerState = optimizer;
    }

    /// <summary>The file read.</summary>
    public string Path { get; }
    /// <summary>Zip or legacy container.</summary>
    public TorchFileFormat Format { get; }
    /// <summary><c>train.py</c> (a dict with <c>state_dict</c>) or <c>state_dict</c> (bare).</summary>
    public string Layout { get; }
    /// <summary>Key → fp32 (or int64 for counters) CPU tensor.</summary>
    public IReadOnlyDictionary<string, Tensor> StateDict { get; }
    /// <summary>Keys in file order.</summary>
    public IReadOnlyList<string> KeyOrder { get; }
    /// <summary>True when any weight was stored in fp16 (mixed-precision training).</summary>
    public bool HalfPrecision { get; }
    /// <summary>train.py's <c>iteration</c>, when present.</summary>
    public int? Iteration { get; }
    /// <summary>train.py's <c>learning_rate</c>, when present.</summary>
    public double? LearningRate { get; }
    /// <summary>train.py's <c>optimizer</c> (a PyTorch optimizer state dict), when present.</summary>
    internal object? OptimizerState { get; }

    /// <summary>Shapes of every tensor, by key.</summary>
    public IReadOnlyDictionary<string, long[]> Shapes => StateDict.ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);

    /// <summary>Reads <paramref name="path"/>. Throws <see cref="InteropException"/> (CheckpointCorrupt / CheckpointInvalid).</summary>
    public static PyTorchCheckpoint Read(string path)
    {
        var (root, format) = TorchFile.Read(path);
        if (root is not PyDict dict)
        {
            var what = root is PyObject o ? $"a pickled {o.Type.FullName} object (save model.state_dict(), not the model)" : $"a {root?.GetType().Name ?? "None"}";
            throw new InteropException("CheckpointInvalid", path, $"it holds {what}, not a state dict or a train.py checkpoint dict");
        }

        string layout;
        PyDict sd;
        if (dict.Get("state_dict") is PyDict inner)
        {
            layout = "train.py";
            sd = inner;
        }
        else if (dict.Get("model") is PyDict model && dict.Keys.All(k => k is string))
        {
            layout = "train.py";
            sd = model;
        }
        else
        {
            layout = "state_dict";
            sd = dict;
        }

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var order = new List<string>();
        var bad = new List<string>();
        bool half = false;
        foreach (var (k, v) in sd.Items)
        {
            var key = k.ToString() ?? "";
            if (v is not Tensor t)
            {
                bad.Add($"{key} ({v?.GetType().Name ?? "None"})");
                continue;
            }
            if (t.dtype is ScalarType.Float16 or ScalarType.BFloat16) half = true;
            var converted = t.is_floating_point() && t.dtype != ScalarType.Float32 ? t.to_type(ScalarType.Float32) : t;
            tensors[key] = converted;
            order.Add(key);
        }
        if (bad.Count > 0 && tensors.Count == 0)
            throw new InteropException("CheckpointInvalid", path, $"no tensors in its {(layout == "state_dict" ? "top-level dict" : "state_dict")}; keys: {string.Join(", ", dict.Keys.Take(12))}");
        if (bad.Count > 0)
            throw new InteropException("CheckpointInvalid", path, $"its state dict has entries that are not tensors: {string.Join(", ", bad.Take(12))}");

        // DataParallel / DistributedDataParallel wrap every key in "module.".
        if (order.Count > 0 && order.All(k => k.StartsWith("module.", StringComparison.Ordinal)))
        {
            var renamed = order.ToDictionary(k => k["module.".Length..], k => tensors[k], StringComparer.Ordinal);
            order = order.Select(k => k["module.".Length..]).ToList();
            tensors = renamed;
        }

        int? iteration = layout == "train.py" ? dict.Get("iteration") switch
        {
            long l when l is >= 0 and <= int.MaxValue => (int)l,
            Tensor t when t.numel() == 1 => (int)t.to_type(ScalarType.Int64).item<long>(),
            _ => null,
        } : null;
        double? lr = layout == "train.py" ? dict.Get("learning_rate") switch
        {
            double d => d,
            long l => l,
            Tensor t when t.numel() == 1 => t.to_type(ScalarType.Float64).item<double>(),
            _ => null,
        } : null;
        var optimizer = layout == "train.py" ? dict.Get("optimizer") : null;
        return new PyTorchCheckpoint(path, format, layout, tensors, order, half, iteration, lr, optimizer);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in StateDict.Values) t.Dispose();
    }
}
