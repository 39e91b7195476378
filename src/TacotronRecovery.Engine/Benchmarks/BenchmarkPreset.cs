using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Engine.Benchmarks;

/// <summary>
/// The fixed shapes of a training-step benchmark (docs/benchmarks.md): model dimensions and the batch's text and
/// mel lengths, longest first. <c>nvidia</c>: NVIDIA defaults, batch 8, text 100..65, mel 400..260;
/// <c>small</c>: the small dims, batch 16, text 40..25, mel 150..90; <c>tiny</c>: a few-millisecond model for tests.
/// </summary>
public sealed record BenchmarkPreset(string Name, ModelOptions Model, IReadOnlyList<int> TextLengths, IReadOnlyList<int> MelLengths)
{
    /// <summary>Names <see cref="Get"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = new[] { "small", "nvidia", "tiny" };

    /// <summary>Utterances in the batch.</summary>
    public int BatchSize => TextLengths.Count;

    /// <summary>
    /// The preset called <paramref name="name"/>; <paramref name="framesPerStep"/> overrides the reduction factor r
    /// (the protocol's figure is r = 1).
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name, or r below 1.</exception>
    public static BenchmarkPreset Get(string name, int? framesPerStep = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        var preset = name.ToLowerInvariant() switch
        {
            "nvidia" => new BenchmarkPreset("nvidia", ModelOptions.ForPreset("nvidia"),
                Descending(100, 8, 5), Descending(400, 8, 20)),
            "small" => new BenchmarkPreset("small", ModelOptions.ForPreset("small"),
                Descending(40, 16, 1), Descending(150, 16, 4)),
            "tiny" => new BenchmarkPreset("tiny", new ModelOptions
            {
                Preset = "tiny", NSymbols = 20, SymbolsEmbeddingDim = 16, EncoderEmbeddingDim = 16, EncoderNConvolutions = 1,
                EncoderKernelSize = 3, NMelChannels = 8, AttentionRnnDim = 24, DecoderRnnDim = 24, PrenetDim = 16, AttentionDim = 8,
                AttentionLocationNFilters = 4, AttentionLocationKernelSize = 5, PostnetEmbeddingDim = 8, PostnetNConvolutions = 2,
                PostnetKernelSize = 3,
            }, Descending(9, 3, 2), Descending(20, 3, 3)),
            _ => throw new ArgumentException($"Unknown benchmark preset '{name}': expected {string.Join(", ", Names)}.", nameof(name)),
        };
        if (framesPerStep is not { } r) return preset;
        if (r < 1) throw new ArgumentException($"The reduction factor must be at least 1, got {r}.", nameof(framesPerStep));
        return preset with { Model = preset.Model with { NFramesPerStep = r } };
    }

    private static int[] Descending(int first, int count, int step) => Enumerable.Range(0, count).Select(i => first - i * step).ToArray();
}
