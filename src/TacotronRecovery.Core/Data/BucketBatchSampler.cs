namespace TacotronRecovery.Core.Data;

/// <summary>
/// Seeded length-bucketed batches with a fixed batch size. Per epoch: shuffle all indices, leave out the
/// <c>count mod batchSize</c> last ones (a different few each epoch), cut the rest into buckets of
/// <c>bucketBatches × batchSize</c>, sort each bucket by length (longest first, ties by index), cut buckets into
/// batches, and shuffle the batch order. Batches hold similar lengths (less padding) while the epoch order stays
/// random. The same lengths, seed and epoch always give the same batches, on every machine (SplitMix64, not
/// <see cref="Random"/>).
/// </summary>
public sealed class BucketBatchSampler
{
    private readonly int[] _lengths;

    /// <summary>Creates a sampler.</summary>
    /// <param name="lengths">Length of each item (mel frames); the batches hold indices into this list.</param>
    /// <param name="batchSize">Items per batch (every batch has exactly this many).</param>
    /// <param name="seed">Run seed.</param>
    /// <param name="bucketBatches">Batches per bucket: 1 sorts only inside a batch; larger groups lengths better
    /// but shuffles less.</param>
    /// <exception cref="ArgumentOutOfRangeException">batchSize or bucketBatches below 1, or batchSize above the item count.</exception>
    public BucketBatchSampler(IReadOnlyList<int> lengths, int batchSize, int seed, int bucketBatches = 8)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketBatches, 1);
        if (batchSize > lengths.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"Batch size {batchSize} is larger than the {lengths.Count} utterances available.");
        }
        _lengths = lengths.ToArray();
        BatchSize = batchSize;
        Seed = seed;
        BucketBatches = bucketBatches;
    }

    /// <summary>Items per batch.</summary>
    public int BatchSize { get; }

    /// <summary>The seed.</summary>
    public int Seed { get; }

    /// <summary>Batches per bucket.</summary>
    public int BucketBatches { get; }

    /// <summary>Batches in every epoch: count / batchSize.</summary>
    public int BatchesPerEpoch => _lengths.Length / BatchSize;

    /// <summary>The batches of epoch <paramref name="epoch"/> (indices into the lengths list).</summary>
    public IReadOnlyList<int[]> Batches(int epoch)
    {
        var rng = new SplitMix64(((ulong)(uint)Seed << 32) ^ (uint)epoch ^ 0x5DEECE66DUL);
        var order = Enumerable.Range(0, _lengths.Length).ToArray();
        rng.Shuffle(order);
        int used = BatchesPerEpoch * BatchSize;
        int bucketSize = BatchSize * BucketBatches;
        var batches = new List<int[]>(BatchesPerEpoch);
        for (int start = 0; start < used; start += bucketSize)
        {
            var bucket = order[start..Math.Min(used, start + bucketSize)];
            Array.Sort(bucket, (a, b) => _lengths[a] != _lengths[b] ? _lengths[b].CompareTo(_lengths[a]) : a.CompareTo(b));
            for (int b = 0; b < bucket.Length; b += BatchSize) batches.Add(bucket[b..(b + BatchSize)]);
        }
        var shuffled = batches.ToArray();
        rng.Shuffle(shuffled);
        return shuffled;
    }

    /// <summary>A small, fast, fully specified generator so batches do not depend on the runtime's <see cref="Random"/>.</summary>
    private struct SplitMix64(ulong state)
    {
        private ulong _state = state;

        public ulong Next()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>Uniform in [0, n) (Lemire's multiply-shift; the bias is below 2^-32 for the sizes used here).</summary>
        public int NextInt(int n) => (int)(((Next() >> 32) * (ulong)n) >> 32);

        public void Shuffle<T>(T[] items)
        {
            for (int i = items.Length - 1; i > 0; i--)
            {
                int j = NextInt(i + 1);
                (items[i], items[j]) = (items[j], items[i]);
            }
        }
    }
}
