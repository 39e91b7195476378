using System.Text.Json;
using System.Text.Json.Nodes;
using TacotronRecovery.Core.Audio;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Data;
using TacotronRecovery.Core.Health;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Engine.Checkpoints;
using TacotronRecovery.Engine.Inference;
using TacotronRecovery.Engine.Model;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Tests.Inference;

[Collection("torch")]
public sealed class AttentionDiagnosticsTests : IDisposable
{
    private const int MaxSteps = 30;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "diagtest-" + Guid.NewGuid().ToString("N")[..10]);

    public AttentionDiagnosticsTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>Tiny and deterministic at inference (no prenet dropout), the full symbol set so free text encodes.</summary>
    private static ModelOptions Tiny(int r) => new()
    {
        Preset = "tiny", NSymbols = 148, SymbolsEmbeddingDim = 16, EncoderEmbeddingDim = 16, EncoderNConvolutions = 1, EncoderKernelSize = 3,
        NMelChannels = 8, AttentionRnnDim = 24, DecoderRnnDim = 24, PrenetDim = 16, AttentionDim = 8, AttentionLocationNFilters = 4,
        AttentionLocationKernelSize = 5, PostnetEmbeddingDim = 8, PostnetNConvolutions = 2, PostnetKernelSize = 3,
        NFramesPerStep = r, MaxDecoderSteps = MaxSteps, PrenetDropoutAlways = false,
    };

    private static Tacotron2 NewModel(int r, int seed = 5)
    {
        random.manual_seed(seed);
        var model = new Tacotron2("tacotron2", Tiny(r));
        model.eval();
        return model;
    }

    [Fact]
    public void Diagnose_WithReference_McdLengthAndGatePerStep_SummariseIsAValidationRecord()
    {
        using var model = NewModel(2);
        using var diagnostics = new AttentionDiagnostics(model, new DataOptions { NMelChannels = 8 });
        var rng = new Random(3);
        var reference = new Mel(8, 21, Enumerable.Range(0, 8 * 21).Select(_ => (float)(-5 + rng.NextDouble())).ToArray());
        var d = diagnostics.Diagnose(new DiagnosticInput("u1", "hello", new[] { 5, 9, 12, 30, 41 }, 21, reference));

        Assert.NotNull(d.McdDtw);
        Assert.True(d.McdDtw >= 0);
        Assert.Equal(d.AlignmentSteps, d.GateLogits!.Length);
        Assert.Equal(d.StoppedBy == StopReason.Gate && Math.Abs(d.PredictedFrames - 21) <= 2.1, d.LengthWithin10);
        Assert.Null(diagnostics.Diagnose(new DiagnosticInput("t", "hello", new[] { 5, 9 })).McdDtw); // free text: no reference

        var summary = TacotronRecovery.Engine.Training.Validation.Summarise([d, d with { HitMaxSteps = true, LengthWithin10 = false }], 2, 0.5);
        Assert.Equal("validation", summary.Source);
        Assert.Equal(2, summary.Sentences);
        Assert.Equal((d.HitMaxSteps ? 1 : 0) + 1, summary.StepLimitHits);
        Assert.Equal(d.LengthWithin10 == true ? 0.5 : 0, summary.LengthWithin10);
        Assert.Equal(d.McdDtw!.Value, summary.McdDtw!.Value, 9);
        Assert.InRange(summary.GateAccuracy, 0, 1);
        Assert.InRange(summary.Quality, 0, 100);
    }

    [Fact]
    public void Diagnose_SameSentenceTwice_SameDecode_AndTheCallersRandomStreamIsKept()
    {
        using var model = NewModel(2);
        using var diagnostics = new AttentionDiagnostics(model, new DataOptions { NMelChannels = 8 });
        var input = new DiagnosticInput("u1", "hello world.", new[] { 5, 9, 12, 30, 41, 7, 8 }, TrueFrames: 21);
        manual_seed(77);
        using var expectedNext = rand(4);
        manual_seed(77);
        var first = diagnostics.Diagnose(input);
        using var next = rand(4);
        diagnostics.Diagnose(new DiagnosticInput("other", "x", new[] { 5, 9 }));
        var again = diagnostics.Diagnose(input);
        Assert.Equal(first.PredictedFrames, again.PredictedFrames);
        Assert.Equal(first.Alignment, again.Alignment);
        Assert.Equal(expectedNext.data<float>().ToArray(), next.data<float>().ToArray());   // the caller's stream was restored
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Diagnose_UntrainedModel_ReportsShapesAndBoundedMetrics(int r)
    {
        using var model = NewModel(r);
        using var diagnostics = new AttentionDiagnostics(model, new DataOptions { NMelChannels = 8 });
        var d = diagnostics.Diagnose(new DiagnosticInput("u1", "hello world.", new[] { 5, 9, 12, 30, 41, 7, 8 }, TrueFrames: 21));

        Assert.Equal(7, d.Tokens);
        Assert.Equal(d.AlignmentSteps * 7, d.Alignment.Length);
        Assert.Equal((d.PredictedFrames + r - 1) / r, d.AlignmentSteps);
        Assert.InRange(d.PredictedFrames, r, MaxSteps * r);
        Assert.Equal(0, d.PredictedFrames % r);
        if (d.HitMaxSteps) Assert.Equal(MaxSteps * r, d.PredictedFrames);
        foreach (var v in new[] { d.Score.Diagonality, d.Score.FocusRate, d.Score.Coverage, d.Score.Monotonicity }) Assert.InRange(v, 0, 1);
        Assert.Equal(d.AlignmentSteps, d.Score.Steps);
        Assert.Equal(21, d.TrueFrames);
        Assert.NotNull(d.StopCorrect);
        // Every row of the attention is a distribution over the 7 tokens.
        for (int t = 0; t < d.AlignmentSteps; t++) Assert.InRange(d.Alignment.AsSpan(t * 7, 7).ToArray().Sum(), 0.999f, 1.001f);
    }

    [Fact]
    public void Diagnose_FreeText_EncodesWithTheCleanersAndLeavesStopUnknown()
    {
        using var model = NewModel(1);
        using var diagnostics = new AttentionDiagnostics(model, new DataOptions { NMelChannels = 8 });
        var ids = diagnostics.Encode("Dr. Smith paid $5.");
        var d = diagnostics.Diagnose(new DiagnosticInput("text-1", "Dr. Smith paid $5."));

        Assert.Equal(ids.Length, d.Tokens);
        Assert.True(d.Tokens > "Dr. Smith paid $5.".Length, "english_cleaners expand the abbreviation and the amount");
        Assert.Null(d.TrueFrames);
        Assert.Null(d.StopCorrect);
        Assert.Throws<ArgumentException>(() => diagnostics.Encode("   "));
    }

    [Fact]
    public void Diagnose_TrueLengthAtOrFarFromThePrediction_StopCorrectFollowsTheToleranceAndReachedEnd()
    {
        using var model = NewModel(2);
        using var diagnostics = new AttentionDiagnostics(model, new DataOptions { NMelChannels = 8 });
        int[] ids = { 3, 14, 15, 9, 26, 5 };
        var first = diagnostics.Diagnose(new DiagnosticInput("u", "x", ids, TrueFrames: 10));

        var same = diagnostics.Diagnose(new DiagnosticInput("u", "x", ids, TrueFrames: first.PredictedFrames));
        Assert.Equal(first.PredictedFrames, same.PredictedFrames); // deterministic without prenet dropout
        Assert.Equal(!same.HitMaxSteps && same.Score.ReachedEnd, same.StopCorrect);

        // 3 decoder steps (6 frames at r = 2) beyond the tolerance of max(3 steps, 5 %) can never be correct.
        var far = diagnostics.Diagnose(new DiagnosticInput("u", "x", ids, TrueFrames: first.PredictedFrames + 2 * 2 * (3 + 1) + 200));
        Assert.False(far.StopCorrect);
    }

    [Fact]
    public void Constructor_CheckpointWrittenByTheTrainerFormat_GivesTheSameDiagnosisAsTheModel()
    {
        using var model = NewModel(1, seed: 11);
        var path = Path.Combine(_dir, "step-000042.ckpt");
        var data = new DataOptions { NMelChannels = 8 };
        var meta = new JsonObject
        {
            ["step"] = 42,
            ["model"] = JsonSerializer.SerializeToNode(model.Options, RunJson.Options),
            ["data"] = JsonSerializer.SerializeToNode(data, RunJson.Options),
        };
        CheckpointFile.Write(path, meta, model, null);
        var input = new DiagnosticInput("u", "x", new[] { 4, 8, 15, 16, 23, 42 }, TrueFrames: 12);

        var expected = new AttentionDiagnostics(model, data).Diagnose(input);
        using var loaded = new AttentionDiagnostics(path);
        var actual = loaded.Diagnose(input);

        Assert.Equal(42, loaded.Step);
        Assert.Equal(expected.PredictedFrames, actual.PredictedFrames);
        Assert.Equal(expected.Score.Diagonality, actual.Score.Diagonality, 6);
        Assert.Equal(expected.Alignment, actual.Alignment);
    }

    [Fact]
    public void Constructor_TamperedOrMissingCheckpoint_ThrowsCheckpointCorrupt()
    {
        using var model = NewModel(1);
        var path = Path.Combine(_dir, "step-000001.ckpt");
        CheckpointFile.Write(path, new JsonObject { ["model"] = JsonSerializer.SerializeToNode(model.Options, RunJson.Options) }, model, null);
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x5A;
        File.WriteAllBytes(path, bytes);

        var tampered = Assert.Throws<CheckpointCorruptException>(() => new AttentionDiagnostics(path));
        Assert.Contains("hash does not match", tampered.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<CheckpointCorruptException>(() => new AttentionDiagnostics(Path.Combine(_dir, "none.ckpt")));
        Assert.Contains("does not exist", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidationSentences_LJSpeechFolderWithValidationList_TakesThoseRowsInFileOrderWithTrueFrames()
    {
        var root = Path.Combine(_dir, "corpus");
        Directory.CreateDirectory(Path.Combine(root, "wavs"));
        var lines = new List<string>();
        for (int i = 1; i <= 6; i++)
        {
            var id = $"LJ001-{i:D4}";
            WavFile.Write(Path.Combine(root, "wavs", id + ".wav"), Tone(0.4 + 0.1 * i), 22050);
            lines.Add($"{id}|Sentence number {i}.|Sentence number {i}.");
        }
        File.WriteAllLines(Path.Combine(root, "metadata.csv"), lines);
        File.WriteAllLines(Path.Combine(root, "validation.txt"), new[] { "LJ001-0005", "LJ001-0002", "LJ001-0003" });
        var data = new DataOptions { Path = root, MelCachePath = Path.Combine(_dir, "cache") };

        var sentences = AttentionDiagnostics.ValidationSentences(data, _dir, 2, out bool training);

        Assert.False(training);
        Assert.Equal(new[] { "LJ001-0002", "LJ001-0003" }, sentences.Select(s => s.Id).ToArray());
        var mel = new MelSpectrogram(data);
        Assert.Equal(mel.Compute(Tone(0.6)).Frames, sentences[0].TrueFrames);
        Assert.Equal("Sentence number 2.", sentences[0].Text);
        Assert.NotEmpty(sentences[0].TokenIds!);
    }

    [Fact]
    public void ValidationSentences_MissingFolder_ThrowsDatasetNotFound()
    {
        var data = new DataOptions { Path = Path.Combine(_dir, "nowhere") };
        var e = Assert.Throws<DatasetNotFoundException>(() => AttentionDiagnostics.ValidationSentences(data, _dir, 3, out _));
        Assert.Contains("nowhere", e.Message, StringComparison.Ordinal);
    }

    private static float[] Tone(double seconds)
    {
        var samples = new float[(int)(seconds * 22050)];
        for (int i = 0; i < samples.Length; i++) samples[i] = 0.3f * MathF.Sin(2 * MathF.PI * 220 * i / 22050f);
        return samples;
    }
}
