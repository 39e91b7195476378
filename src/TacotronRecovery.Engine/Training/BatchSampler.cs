namespace TacotronRecovery.Engine.Training;

/// <summary>
/// Resumable, seeded, length-bucketed batches: each epoch shuffles the utterances (seed + epoch), cuts them into
/// buckets of 8 batches, sorts each bucket by length so a batch holds similar lengths, and shuffles the batch
/// order. The same (seed, epoch, batch size) always gives the same batches, so a resumed run sees the same data.
/// </summary>
public sealed class BatchSampler
{
    private readonly int[] _lengths;
    private readonly int _seed;
    private List<int[]> _epochBatches = new();

    /// <summary>Creates a sampler over utterances of the given lengths (frames).</summary>
    public BatchSampler(IReadOnlyList<int> lengths, int batchSize, int seed, int epoch = 0, int position = 0)
    {
        if (lengths.Count == 0) throw new ArgumentException("The training set is empty.", nameof(lengths));
        _lengths = lengths.ToArray();
        _seed = seed;
        BatchSize = Math.Max(1, Math.Min(batchSize, _lengths.Length));
        Epoch = epoch;
        Build();
        Position = Math.Clamp(position, 0, _epochBatches.Count);
    }

    /// <summary>Utterances per batch.</summary>
    public int BatchSize { get; private set; }
    /// <summary>Current epoch (0-based).</summary>
    public int Epoch { get; private set; }
    /// <summary>Index of the next batch within the epoch.</summary>
    public int Position { get; private set; }
    /// <summary>Batches per epoch.</summary>
    public int BatchesPerEpoch => _epochBatches.Count;

    /// <summary>Indices of the next batch; moves to the next epoch when one ends.</summary>
    public int[] Next()
    {
        if (Position >= _epochBatches.Count)
        {
            Epoch++;
            Build();
            Position = 0;
        }
        return _epochBatches[Position++];
    }

    /// <summary>Moves to a saved position (resume).</summary>
    public void Restore(int epoch, int position)
    {
        Epoch = epoch;
        Build();
        Position = Math.Clamp(position, 0, _epochBatches.Count);
    }

    /// <summary>Changes the batch size from the next batch on (recovery halves it on out-of-memory).</summary>
    public void Resize(int batchSize)
    {
        var done = Position * BatchSize;
        BatchSize = Math.Max(1, Math.Min(batchSize, _lengths.Length));
        Build();
        Position = Math.Min(done / BatchSize, _epochBatches.Count);
    }

    private void Build()
    {
        var rng = new Random(unchecked(_seed * 31 + Epoch));
        var order = Enumerable.Range(0, _lengths.Length).ToArray();
        rng.Shuffle(order);
        var batches = new List<int[]>();
        int bucket = BatchSize * 8;
        for (int start = 0; start < order.Length; start += bucket)
        {
            var chunk = order.Skip(start).Take(bucket).OrderBy(i => _lengths[i]).ThenBy(i => i).ToArray();
            for (int b = 0; b < chunk.Length; b += BatchSize)
            {
                var batch = chunk.Skip(b).Take(BatchSize).ToArray();
                if (batch.Length == BatchSize || batches.Count == 0) batches.Add(batch);
            }
        }
        var arr = batches.ToArray();
        rng.Shuffle(arr);
        _epochBatches = arr.ToList();
    }
}
