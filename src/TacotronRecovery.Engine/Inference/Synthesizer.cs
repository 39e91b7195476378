using System.Text.Json;
using TacotronRecovery.Core.Audio;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Health;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Core.Text;
using TacotronRecovery.Engine.Checkpoints;
using TacotronRecovery.Engine.Model;
using TacotronRecovery.Engine.Training;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Inference;

/// <summary>What one synthesis produced. StoppedBy: the gate, the stall detector (attention resting at the last tokens; the
/// audio ends where the detector estimated the speech ends) or the decoder step limit (then HitMaxSteps is true).</summary>
public sealed record SynthesisResult(string Text, string CleanedText, int Tokens, int Frames, bool HitMaxSteps, double Seconds,
    double Diagonality, float[] Alignment, int AlignmentSteps, Mel Mel, float[] Audio, int SampleRate, StopReason StoppedBy = StopReason.Gate);

/// <summary>Text → mel (free-running Tacotron 2) → waveform (Griffin-Lim), from one of our checkpoints.</summary>
public sealed class Synthesizer : IDisposable
{
    private readonly Tacotron2 _model;
    private readonly DataOptions _data;
    private readonly TextEncoder _encoder;

    /// <summary>Loads a verified checkpoint (model dimensions and audio parameters come from its metadata).</summary>
    public Synthesizer(string checkpoint)
    {
        var loaded = CheckpointFile.Read(checkpoint);
        _data = loaded.DataOptions;
        _model = loaded.CreateModel();
        _encoder = new TextEncoder(_data.TextCleaners, UnknownCharacterPolicy.Drop);
    }

    /// <summary>Synthesises one sentence.</summary>
    public SynthesisResult Synthesize(string text, int griffinLimIterations = 60)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new ArgumentException("The text is empty.", nameof(text));
        var encoded = _encoder.Encode(text);
        if (encoded.Ids.Length == 0) throw new ArgumentException($"Nothing speakable is left of '{text}' after cleaning.", nameof(text));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var ids = tensor(encoded.Ids.Select(i => (long)i).ToArray(), new long[] { 1, encoded.Ids.Length });
        using var lengths = tensor(new long[] { encoded.Ids.Length });
        var result = _model.Infer(ids, lengths);
        int frames = result.Lengths[0];
        using var mel = result.MelOutputsPostnet[0].narrow(1, 0, frames).contiguous().cpu();
        var melData = mel.data<float>().ToArray();
        var (alignments, maxSteps, maxTokens) = AlignmentMeasurement.ToHost(result.Alignments);
        int r = _model.Options.NFramesPerStep;
        int steps = Math.Clamp((frames + r - 1) / r, 1, maxSteps);
        var plot = new float[steps * maxTokens];
        Array.Copy(alignments, plot, plot.Length);
        var score = AlignmentScorer.Score(plot, steps, maxTokens);
        var m = new Mel((int)mel.shape[0], frames, melData);
        var audio = GriffinLim.Reconstruct(m, _data, griffinLimIterations);
        return new SynthesisResult(text, encoded.CleanedText, encoded.Ids.Length, frames, result.HitMaxSteps[0], sw.Elapsed.TotalSeconds,
            score.Diagonality, plot, steps, m, audio, _data.SampleRate, result.StoppedBy[0]);
    }

    /// <inheritdoc />
    public void Dispose() => _model.Dispose();
}
