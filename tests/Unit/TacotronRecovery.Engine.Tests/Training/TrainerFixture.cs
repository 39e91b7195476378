using TacotronRecovery.Core.Audio;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Engine.Training;

namespace TacotronRecovery.Engine.Tests.Training;

/// <summary>Captures what a trainer reports, in memory.</summary>
internal sealed class MemorySink : IRunSink
{
    public List<StepMetrics> Steps { get; } = new();
    public List<AlignmentMetrics> Alignments { get; } = new();
    public List<TrainingEvent> Events { get; } = new();
    public List<string> Lines { get; } = new();
    public int Plots { get; private set; }
    public void Step(StepMetrics metrics) => Steps.Add(metrics);
    public void Alignment(AlignmentMetrics metrics) => Alignments.Add(metrics);
    public void Event(TrainingEvent e) => Events.Add(e);
    public void Log(string line) => Lines.Add(line);
    public void AlignmentPlot(int step, float[] alignment, int steps, int tokens, string title) => Plots++;
    public IEnumerable<string> Codes => Events.Select(e => e.Code);
}

/// <summary>Trainers on <see cref="TrainerFixture"/>'s examples, each in a run folder that is deleted on Dispose.</summary>
internal sealed class TrainerScope : IDisposable
{
    private readonly List<string> _dirs = new();

    /// <summary>A trainer for <paramref name="config"/> in <paramref name="dir"/> (default: a new temporary run folder).</summary>
    public (Trainer Trainer, MemorySink Sink, RunDirectory Run) Create(TacotronConfig config, string? dir = null)
    {
        var run = new RunDirectory(Track(dir ?? TrainerFixture.NewRunDir())).Create();
        var sink = new MemorySink();
        var examples = TrainerFixture.Examples();
        return (new Trainer(config, run, TorchSharp.torch.CPU, examples, examples.Take(2).ToArray(), sink), sink, run);
    }

    /// <summary>Deletes <paramref name="dir"/> on Dispose; returns it.</summary>
    public string Track(string dir)
    {
        _dirs.Add(dir);
        return dir;
    }

    public void Dispose()
    {
        foreach (var d in _dirs) try { Directory.Delete(d, recursive: true); } catch (IOException) { }
    }
}

/// <summary>A tiny model and synthetic data, so a whole training step takes milliseconds.</summary>
internal static class TrainerFixture
{
    public const int Mels = 8;

    public static TacotronConfig Config(Func<TacotronConfig, TacotronConfig>? change = null)
    {
        var config = new TacotronConfig
        {
            Name = "t",
            Data = new DataOptions { NMelChannels = Mels },
            Model = new ModelOptions
            {
                Preset = "tiny", SymbolsEmbeddingDim = 16, EncoderEmbeddingDim = 16, EncoderNConvolutions = 1, EncoderKernelSize = 3,
                NMelChannels = Mels, AttentionRnnDim = 24, DecoderRnnDim = 24, PrenetDim = 16, AttentionDim = 8,
                AttentionLocationNFilters = 4, AttentionLocationKernelSize = 5, PostnetEmbeddingDim = 8, PostnetNConvolutions = 2,
                PostnetKernelSize = 3, MaxDecoderSteps = 40,
            },
            Training = new TrainingOptions
            {
                MaxSteps = 20, BatchSize = 4, LearningRate = 1e-3, Seed = 7, Threads = 1, ValidationEverySteps = 0,
                CheckpointEverySteps = 5, AlignmentEverySteps = 5, TensorBoard = false, KeepCheckpoints = 10,
            },
            Recovery = new RecoveryOptions { SkipWindowSteps = 10, MaxSkipsInWindow = 3, CooldownSteps = 5, AttentionWarmupSteps = 1000, SpikePersistSteps = 3 },
            Health = new HealthOptions { ParameterCheckEverySteps = 1 },
        };
        return change is null ? config : change(config);
    }

    public static IReadOnlyList<TrainingExample> Examples(int count = 8, int seed = 3)
    {
        var rng = new Random(seed);
        var list = new List<TrainingExample>();
        for (int i = 0; i < count; i++)
        {
            int tokens = 5 + rng.Next(6), frames = 10 + rng.Next(11);
            var ids = Enumerable.Range(0, tokens).Select(_ => 1 + rng.Next(60)).ToArray();
            var data = new float[Mels * frames];
            for (int k = 0; k < data.Length; k++) data[k] = (float)(-4 + 0.5 * (rng.NextDouble() * 2 - 1) + (k % frames) * 0.02);
            list.Add(new TrainingExample($"u{i}", ids, new Mel(Mels, frames, data)));
        }
        return list;
    }

    public static string NewRunDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "trtest-" + Guid.NewGuid().ToString("N")[..10]);
        new RunDirectory(dir).Create();
        return dir;
    }
}
