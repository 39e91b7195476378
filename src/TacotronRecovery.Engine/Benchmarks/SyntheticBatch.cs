using TacotronRecovery.Core.Audio;
using TacotronRecovery.Engine.Model;
using TacotronRecovery.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Benchmarks;

/// <summary>
/// The protocol's deterministic synthetic batch, drawn as <c>synthetic_batch</c> of the PyTorch reference
/// (tools/reference/tacotron2_reference.py) draws it: one generator seeded with <c>seed</c>; for each utterance in
/// order, text ids uniform in 1..n_symbols−1 (1..147 for the reference symbol set); then one [B, nMels, longest] block
/// of N(0, 1) values scaled to N(−4, 0.5), of which each utterance keeps its first mel-length frames.
/// </summary>
public static class SyntheticBatch
{
    /// <summary>The batch as training examples (ids <c>synthetic-000</c>, ...), ready for <see cref="TrainingBatch.Collate"/>.</summary>
    public static IReadOnlyList<TrainingExample> Create(BenchmarkPreset preset, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(preset);
        int b = preset.BatchSize;
        int channels = preset.Model.NMelChannels;
        int longest = preset.MelLengths.Max();
        using var scope = NewDisposeScope();
        using var generator = new Generator(seed);
        var tokens = new int[b][];
        for (int i = 0; i < b; i++)
        {
            var ids = randint(1, preset.Model.NSymbols, new long[] { preset.TextLengths[i] }, dtype: ScalarType.Int64, generator: generator);
            tokens[i] = ids.data<long>().Select(x => (int)x).ToArray();
        }

        using var half = 0.5.ToScalar();
        using var four = 4.ToScalar();
        var block = randn(new long[] { b, channels, longest }, generator: generator).mul(half).sub(four).contiguous();
        var values = block.data<float>().ToArray();
        var examples = new TrainingExample[b];
        for (int i = 0; i < b; i++)
        {
            int frames = preset.MelLengths[i];
            var data = new float[channels * frames];
            for (int c = 0; c < channels; c++)
                Array.Copy(values, ((long)i * channels + c) * longest, data, (long)c * frames, frames);
            examples[i] = new TrainingExample($"synthetic-{i:000}", tokens[i], new Mel(channels, frames, data));
        }
        return examples;
    }
}
