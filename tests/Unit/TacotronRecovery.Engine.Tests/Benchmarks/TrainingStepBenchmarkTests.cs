using TacotronRecovery.Engine.Benchmarks;
using TacotronRecovery.Engine.Interop;
using TacotronRecovery.Engine.Tests.Interop;
using TacotronRecovery.Engine.Model;
using TorchSharp;

namespace TacotronRecovery.Engine.Tests.Benchmarks;

[Collection("torch")]
public class TrainingStepBenchmarkTests
{
    [Fact]
    public void Run_TinyPresetOneWarmupOneTimedStep_ResultFieldsAreSane()
    {
        var lines = new List<string>();
        var result = TrainingStepBenchmark.Run(new BenchmarkOptions { Preset = "tiny", Warmup = 1, Steps = 1, Health = true, Phases = true }, lines.Add);

        Assert.Equal("tiny", result.Preset);
        Assert.Equal(torch.get_num_threads(), result.Threads);
        Assert.Equal(1, result.FramesPerStep);
        Assert.Equal(3, result.BatchSize);
        Assert.Equal("fast", result.Decoder);
        Assert.Equal(1, result.Warmup);
        using (var model = new Tacotron2("tacotron2", BenchmarkPreset.Get("tiny").Model))
            Assert.Equal(model.ParameterCount(), result.Parameters);
        var step = Assert.Single(result.StepSeconds);
        Assert.True(step > 0);
        Assert.Equal(step, result.MedianSeconds);
        Assert.Equal(step, result.MinSeconds);
        Assert.Equal(step, result.MaxSeconds);
        Assert.True(result.PeakRssBytes > 10L * 1024 * 1024, $"peak RSS {result.PeakRssBytes} bytes");
        Assert.True(double.IsFinite(result.FinalLoss) && result.FinalLoss > 0, $"final loss {result.FinalLoss}");
        Assert.Equal(2, lines.Count);
        Assert.Contains("(warm-up)", lines[0]);
        Assert.StartsWith("step 2/2: ", lines[1]);

        var h = Assert.IsType<HealthOverhead>(result.Health);
        Assert.Equal(50, h.ParameterCheckEverySteps);
        Assert.Equal(50, h.AlignmentEverySteps);
        Assert.True(h.PerStepSeconds > 0 && h.PerStepSeconds < step);
        Assert.True(h.ParameterCheckSeconds > 0 && h.AlignmentSeconds > 0);
        Assert.Equal(h.PerStepSeconds + h.ParameterCheckSeconds / 50 + h.AlignmentSeconds / 50, h.AmortizedSeconds, 12);
        Assert.Equal(100 * h.AmortizedSeconds / (step - h.PerStepSeconds), h.OverheadPercent, 9);

        var p = Assert.IsType<PhaseTimes>(result.Phases);
        var parts = new[] { p.EncoderForward, p.DecoderForward, p.PostnetForward, p.Loss, p.PostnetBackward, p.DecoderBackward, p.EncoderBackward, p.Clip, p.Optimizer };
        Assert.All(parts, x => Assert.True(x >= 0, $"phase {x}"));
        Assert.True(p.DecoderForward > 0 && p.DecoderBackward > 0);
        Assert.True(parts.Sum() <= step, $"phases {parts.Sum()} s > step {step} s"); // consecutive parts of one step
    }

    [Fact]
    public void Run_PhasesOrHealth_SameLossAsWithout()
    {
        var plain = TrainingStepBenchmark.Run(new BenchmarkOptions { Preset = "tiny", Warmup = 1, Steps = 1 });
        var phases = TrainingStepBenchmark.Run(new BenchmarkOptions { Preset = "tiny", Warmup = 1, Steps = 1, Phases = true });
        var health = TrainingStepBenchmark.Run(new BenchmarkOptions { Preset = "tiny", Warmup = 1, Steps = 1, Health = true });
        var stepByStep = TrainingStepBenchmark.Run(new BenchmarkOptions { Preset = "tiny", Warmup = 1, Steps = 1, PlainDecoder = true });

        Assert.Equal(plain.FinalLoss, phases.FinalLoss, 6);
        Assert.Equal(plain.FinalLoss, health.FinalLoss, 6);
        Assert.Equal("plain", stepByStep.Decoder); // its dropout masks are drawn in another order: same mathematics, other loss
        Assert.True(double.IsFinite(stepByStep.FinalLoss));
    }

    [Fact]
    public void Run_ReductionFactorTwo_ReportsIt()
    {
        var result = TrainingStepBenchmark.Run(new BenchmarkOptions { Preset = "tiny", Warmup = 0, Steps = 1, FramesPerStep = 2 });
        Assert.Equal(2, result.FramesPerStep);
        Assert.Equal(0, result.Warmup);
        Assert.True(double.IsFinite(result.FinalLoss));
    }

    [Theory]
    [InlineData(0, 1, "Timed steps must be at least 1, got 0.")]
    [InlineData(1, -1, "Warm-up steps must be 0 or more, got -1.")]
    public void Run_BadCounts_ThrowsNamingTheValue(int steps, int warmup, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => TrainingStepBenchmark.Run(new BenchmarkOptions { Preset = "tiny", Steps = steps, Warmup = warmup }));
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void SyntheticBatch_SmallPreset_DrawsWhatReferencePyDraws()
    {
        // The PyTorch reference's synthetic_batch('small'): t[0,:6], t[15,:3], mel[0,0,0], mel[15,79,89] (PyTorch 1.13.1,
        // same generator); the next test compares the whole batch where torch is installed.
        var examples = SyntheticBatch.Create(BenchmarkPreset.Get("small"));
        Assert.Equal(16, examples.Count);
        Assert.Equal(Enumerable.Range(0, 16).Select(i => 40 - i), examples.Select(e => e.TokenIds.Length));
        Assert.Equal(Enumerable.Range(0, 16).Select(i => 150 - 4 * i), examples.Select(e => e.Mel.Frames));
        Assert.Equal(new[] { 12, 88, 141, 73, 65, 115 }, examples[0].TokenIds.Take(6));
        Assert.Equal(new[] { 21, 56, 146 }, examples[15].TokenIds.Take(3));
        Assert.Equal(-4.726620674133301, examples[0].Mel[0, 0], 5);
        Assert.Equal(-4.2501630783081055, examples[15].Mel[79, 89], 5);
        Assert.All(examples.SelectMany(e => e.TokenIds), id => Assert.InRange(id, 1, 147));
    }

    [PyTorchTheory]
    [InlineData("small")]
    [InlineData("nvidia")]
    public void SyntheticBatch_Preset_EqualsReferenceSyntheticBatch(string preset)
    {
        var dir = Directory.CreateTempSubdirectory("tacotron-batch-");
        try
        {
            var script = Path.Combine(dir.FullName, "batch.py");
            File.WriteAllText(script, $$"""
                import numpy as np
                {{ReferencePython.ImportReference}}
                text, text_lengths, mel, gate, mel_lengths = R.synthetic_batch(sys.argv[1])
                np.savez(sys.argv[2], text=text.numpy(), mel=mel.numpy())
                """);
            var npz = Path.Combine(dir.FullName, "batch.npz");
            ReferencePython.Run(script, preset, npz);
            var reference = Npz.Read(npz);
            var text = reference["text"].data<long>().ToArray();
            var mel = reference["mel"];
            var examples = SyntheticBatch.Create(BenchmarkPreset.Get(preset));
            long width = reference["text"].shape[1], frames = mel.shape[2];
            for (int i = 0; i < examples.Count; i++)
            {
                var e = examples[i];
                Assert.Equal(text.Skip(i * (int)width).Take(e.TokenIds.Length).Select(t => (int)t), e.TokenIds);
                Assert.All(text.Skip(i * (int)width + e.TokenIds.Length).Take((int)width - e.TokenIds.Length), t => Assert.Equal(0, t));
                var expected = mel[i, .., ..e.Mel.Frames];
                var ours = torch.tensor(e.Mel.Data, new long[] { e.Mel.Channels, e.Mel.Frames });
                Assert.True(expected.sub(ours).abs().max().item<float>() < 1e-6f, $"utterance {i}: mel differs");
                Assert.Equal(0f, mel[i, .., e.Mel.Frames..].abs().sum().item<float>());
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void BenchmarkPreset_Get_ProtocolShapes()
    {
        var nvidia = BenchmarkPreset.Get("nvidia");
        Assert.Equal(new[] { 100, 95, 90, 85, 80, 75, 70, 65 }, nvidia.TextLengths);
        Assert.Equal(new[] { 400, 380, 360, 340, 320, 300, 280, 260 }, nvidia.MelLengths);
        Assert.Equal(1024, nvidia.Model.DecoderRnnDim);
        var small = BenchmarkPreset.Get("SMALL", framesPerStep: 2);
        Assert.Equal(16, small.BatchSize);
        Assert.Equal(25, small.TextLengths[^1]);
        Assert.Equal(90, small.MelLengths[^1]);
        Assert.Equal(2, small.Model.NFramesPerStep);
        Assert.Equal(512, small.Model.AttentionRnnDim);
    }

    [Fact]
    public void BenchmarkPreset_Get_UnknownNameOrBadR_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => BenchmarkPreset.Get("huge"));
        Assert.StartsWith("Unknown benchmark preset 'huge': expected small, nvidia, tiny.", e.Message);
        var r = Assert.Throws<ArgumentException>(() => BenchmarkPreset.Get("small", 0));
        Assert.StartsWith("The reduction factor must be at least 1, got 0.", r.Message);
    }

    [Theory]
    [InlineData(new[] { 3.0 }, 3.0)]
    [InlineData(new[] { 1.0, 2.0, 10.0 }, 2.0)]
    [InlineData(new[] { 1.0, 2.0, 4.0, 10.0 }, 3.0)]
    public void Median_SortedValues_AsPythonStatisticsMedian(double[] sorted, double expected) =>
        Assert.Equal(expected, TrainingStepBenchmark.Median(sorted));

    [Fact]
    public void PeakMemory_ReadBytes_AtLeastTheManagedHeap()
    {
        var bytes = PeakMemory.ReadBytes();
        Assert.True(bytes >= GC.GetTotalMemory(false), $"peak {bytes} bytes");
    }

    [Fact]
    public void MatrixProducts_EveryShapeInBothLayouts_PositiveThroughput()
    {
        var results = MatrixProductBenchmark.Run();
        Assert.Equal(12, results.Count);
        Assert.Equal(6, results.Select(r => r.Product).Distinct().Count());
        Assert.Contains(results, r => r.Product == "[16 × 2048]·[2048 × 768]"); // a backward pass's per-step product
        Assert.Equal(new[] { "transposed view", "contiguous" }, results.Select(r => r.Weight).Distinct());
        Assert.All(results, r => Assert.True(r.Milliseconds > 0 && r.Gflops > 0 && double.IsFinite(r.Gflops), r.ToString()));
    }
}
