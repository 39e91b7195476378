using TacotronRecovery.Core.Data;

namespace TacotronRecovery.Engine.Training;

/// <summary>
/// Where the trainer is in the data: epoch and batch position over <see cref="BucketBatchSampler"/>'s seeded,
/// length-bucketed epochs. Saved in checkpoints so that a resumed run sees exactly the batches an uninterrupted one
/// would have; the batch size can shrink mid-epoch (recovery halves it on out-of-memory).
/// </summary>
public sealed class BatchSampler
{
    private readonly int[] _lengths;
    private readonly int _seed;
    private BucketBatchSampler _sampler;
    private IReadOnlyList<int[]> _epochBatches;

    /// <summary>Creates a sampler over utterances of the given lengths (frames).</summary>
    public BatchSampler(IReadOnlyList<int> lengths, int batchSize, int seed)
    {
        if (lengths.Count == 0) throw new ArgumentException("The training set is empty.", nameof(lengths));
        _lengths = lengths.ToArray();
        _seed = seed;
        _sampler = new BucketBatchSampler(_lengths, Math.Clamp(batchSize, 1, _lengths.Length), seed);
        _epochBatches = _sampler.Batches(0);
    }

    /// <summary>Utterances per batch.</summary>
    public int BatchSize => _sampler.BatchSize;
    /// <summary>Current epoch (0-based).</summary>
    public int Epoch { get; private set; }
    /// <summary>Index of the next batch within the epoch.</summary>
    public int Position { get; private set; }

    /// <summary>Indices of the next batch; moves to the next epoch when one ends.</summary>
    public int[] Next()
    {
        if (Position >= _epochBatches.Count) Restore(Epoch + 1, 0);
        return _epochBatches[Position++];
    }

    /// <summary>Moves to a saved position (resume).</summary>
    public void Restore(int epoch, int position)
    {
        Epoch = epoch;
        _epochBatches = _sampler.Batches(epoch);
        Position = Math.Clamp(position, 0, _epochBatches.Count);
    }

    /// <summary>Changes the batch size from the next batch on, keeping the share of the epoch already seen.</summary>
    public void Resize(int batchSize)
    {
        batchSize = Math.Clamp(batchSize, 1, _lengths.Length);
        if (batchSize == BatchSize) return;
        int seen = Position * BatchSize;
        _sampler = new BucketBatchSampler(_lengths, batchSize, _seed);
        Restore(Epoch, seen / batchSize);
    }
}
