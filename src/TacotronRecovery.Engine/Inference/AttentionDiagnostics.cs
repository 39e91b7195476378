using System.Text.Json;
using TacotronRecovery.Core.Audio;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Data;
using TacotronRecovery.Core.Health;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Core.Text;
using TacotronRecovery.Engine.Checkpoints;
using TacotronRecovery.Engine.Model;
using TacotronRecovery.Engine.Training;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Inference;

/// <summary>One sentence to diagnose: a held-out utterance (token ids and true length known) or free text.</summary>
/// <param name="Id">Utterance id (or <c>text-1</c>, <c>text-2</c>, ... for free text).</param>
/// <param name="Text">Transcript.</param>
/// <param name="TokenIds">Symbol ids; null to encode <paramref name="Text"/> with the checkpoint's cleaners.</param>
/// <param name="TrueFrames">Mel frames of the reference audio; null for free text.</param>
/// <param name="Reference">Log mel of the recording, for MCD-DTW; null when not at hand.</param>
public sealed record DiagnosticInput(string Id, string Text, int[]? TokenIds = null, int? TrueFrames = null, Mel? Reference = null);

/// <summary>What free-running synthesis of one sentence showed.</summary>
/// <param name="Id">Utterance id.</param>
/// <param name="Text">Transcript.</param>
/// <param name="Tokens">Input tokens.</param>
/// <param name="TrueFrames">Frames of the reference audio (null for free text).</param>
/// <param name="PredictedFrames">Frames generated until the gate fired (the step limit when it never did).</param>
/// <param name="HitMaxSteps">True when neither the gate nor the stall detector ended the synthesis within the decoder step limit.</param>
/// <param name="Score">Alignment metrics of the free-running attention (see <see cref="AlignmentScorer"/>).</param>
/// <param name="StopCorrect">
/// <see cref="GateMetrics.StopsCorrectly"/> in decoder steps: stopped within ±max(3 steps, 5 %) of the true end with
/// attention at the last tokens. Null for free text (no true end).
/// </param>
/// <param name="Alignment">The attention matrix, row-major [<paramref name="AlignmentSteps"/>, <paramref name="Tokens"/>].</param>
/// <param name="AlignmentSteps">Decoder steps in <paramref name="Alignment"/>.</param>
/// <param name="LengthWithin10">The gate ended it within ±10 % of the true length in frames (<see cref="GateMetrics.LengthWithin"/>;
/// a sentence the stall detector or the step limit ended is not within); null for free text.</param>
/// <param name="McdDtw">MCD-DTW (dB) of the predicted mel (after the postnet) against the recording's; null without a reference.</param>
/// <param name="GateLogits">Gate logit of each generated decoder step.</param>
/// <param name="StoppedBy">What ended the synthesis: the gate, the stall detector (attention resting at the last tokens,
/// <see cref="AttentionStall"/>; PredictedFrames is then its estimated end) or the step limit.</param>
public sealed record UtteranceDiagnosis(string Id, string Text, int Tokens, int? TrueFrames, int PredictedFrames, bool HitMaxSteps,
    AlignmentScore Score, bool? StopCorrect, float[] Alignment, int AlignmentSteps, bool? LengthWithin10 = null, double? McdDtw = null,
    float[]? GateLogits = null, StopReason StoppedBy = StopReason.Gate);

/// <summary>
/// Per-utterance attention diagnostics of a checkpoint: each sentence is synthesised free-running (no teacher forcing,
/// the gate decides where to stop; no vocoder) on its own, and its attention is scored with <see cref="AlignmentScorer"/>.
/// This is what the model does at inference, which teacher-forced training metrics can hide.
/// </summary>
public sealed class AttentionDiagnostics : IDisposable
{
    private readonly Tacotron2 _model;
    private readonly bool _ownsModel;
    private readonly TextEncoder _encoder;

    /// <summary>Loads a verified checkpoint (model dimensions and audio/text parameters from its metadata).</summary>
    /// <param name="checkpoint">A TacotronRecovery .ckpt file.</param>
    /// <exception cref="CheckpointCorruptException">Missing, truncated, tampered, or not ours.</exception>
    public AttentionDiagnostics(string checkpoint)
    {
        var loaded = CheckpointFile.Read(checkpoint);
        Data = loaded.DataOptions;
        Step = loaded.Step;
        _model = loaded.CreateModel();
        _ownsModel = true;
        _encoder = new TextEncoder(Data.TextCleaners, UnknownCharacterPolicy.Drop);
    }

    /// <summary>Diagnoses an in-memory model (not disposed by this object).</summary>
    /// <param name="model">The model.</param>
    /// <param name="data">Data options (text cleaners) the model was trained with.</param>
    public AttentionDiagnostics(Tacotron2 model, DataOptions data)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        Data = data ?? throw new ArgumentNullException(nameof(data));
        _encoder = new TextEncoder(Data.TextCleaners, UnknownCharacterPolicy.Drop);
    }

    /// <summary>Data options from the checkpoint (paths removed).</summary>
    public DataOptions Data { get; }

    /// <summary>Training step of the checkpoint (0 for an in-memory model).</summary>
    public int Step { get; }

    /// <summary>Synthesises one sentence free-running and scores its attention.</summary>
    /// <param name="input">The sentence.</param>
    /// <exception cref="ArgumentException">The text is empty, or nothing speakable is left after cleaning.</exception>
    public UtteranceDiagnosis Diagnose(DiagnosticInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        int[] ids = input.TokenIds ?? Encode(input.Text);
        if (ids.Length == 0) throw new ArgumentException($"'{input.Id}' has no tokens.", nameof(input));
        int r = _model.Options.NFramesPerStep;

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var device = _model.parameters().First().device;
        var text = tensor(ids.Select(i => (long)i).ToArray(), new long[] { 1, ids.Length }).to(device);
        var lengths = tensor(new long[] { ids.Length }).to(device);
        // The prenet's dropout stays on at inference (as in the reference), so each decode samples. Seeding it from the
        // sentence id makes a diagnosis a function of the checkpoint and the sentence: validation in the engine and
        // Get-AttentionDiagnostics on the same checkpoint give the same figures, and a verdict cannot flip between
        // decodes. The caller's random stream is restored.
        var result = SeededRandom.Run(SeedOf(input.Id), () => _model.Infer(text, lengths));
        int frames = result.Lengths[0];
        bool hit = result.HitMaxSteps[0];

        var (alignments, maxSteps, maxTokens) = AlignmentMeasurement.ToHost(result.Alignments);
        int steps = Math.Clamp((frames + r - 1) / r, 1, maxSteps);
        var plot = new float[steps * ids.Length];
        for (int t = 0; t < steps; t++) Array.Copy(alignments, t * maxTokens, plot, t * ids.Length, ids.Length);
        var score = AlignmentScorer.Score(plot, steps, ids.Length);

        bool? stop = null, within = null;
        if (input.TrueFrames is int trueFrames)
        {
            int trueSteps = (trueFrames + r - 1) / r;
            stop = GateMetrics.StopsCorrectly(result.StoppedBy[0] == StopReason.Gate ? steps : null, trueSteps, score.ReachedEnd);
            within = GateMetrics.LengthWithin(result.StoppedBy[0] == StopReason.Gate ? frames : null, trueFrames);
        }
        // The gate is per decoder step, repeated over the r frames of the step.
        var gateFrames = result.GateOutputs.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        var gateLogits = new float[steps];
        for (int t = 0; t < steps; t++) gateLogits[t] = gateFrames[Math.Min(gateFrames.Length - 1, t * r)];
        double? mcd = null;
        if (input.Reference is { } reference)
        {
            using var post = result.MelOutputsPostnet.detach().to(ScalarType.Float32).cpu().contiguous();
            int channels = (int)post.shape[1], available = (int)post.shape[2];
            if (channels == reference.Channels)
            {
                int used = Math.Min(frames, available);
                var all = post.data<float>().ToArray();
                var predicted = new float[channels * used];
                for (int c = 0; c < channels; c++) Array.Copy(all, c * available, predicted, c * used, used);
                double value = MelCepstralDistortion.Compute(predicted, used, reference.Data, reference.Frames, channels);
                mcd = double.IsFinite(value) ? value : null;
            }
        }
        return new UtteranceDiagnosis(input.Id, input.Text, ids.Length, input.TrueFrames, frames, hit, score, stop, plot, steps, within, mcd, gateLogits, result.StoppedBy[0]);
    }

    /// <summary>A stable seed from a sentence id (FNV-1a of its UTF-8 bytes).</summary>
    internal static long SeedOf(string id)
    {
        uint h = 2166136261;
        foreach (byte c in System.Text.Encoding.UTF8.GetBytes(id)) h = (h ^ c) * 16777619;
        return h;
    }

    /// <summary>Diagnoses each sentence in turn (lazily, so results can be streamed).</summary>
    /// <param name="inputs">The sentences.</param>
    public IEnumerable<UtteranceDiagnosis> Diagnose(IEnumerable<DiagnosticInput> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        foreach (var input in inputs) yield return Diagnose(input);
    }

    /// <summary>Token ids of <paramref name="text"/> with the checkpoint's cleaners (unknown characters dropped).</summary>
    /// <exception cref="ArgumentException">The text is empty or nothing speakable is left after cleaning.</exception>
    public int[] Encode(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new ArgumentException("The text is empty.", nameof(text));
        var encoded = _encoder.Encode(text);
        if (encoded.Ids.Length == 0) throw new ArgumentException($"Nothing speakable is left of '{text}' after cleaning.", nameof(text));
        return encoded.Ids;
    }

    /// <summary>
    /// The first <paramref name="count"/> usable validation utterances of a dataset, split exactly as training splits it
    /// (<see cref="TacotronDataset.Load"/>: validation filelist, else validation.txt, else the id hash). Only these rows
    /// are read and turned into mels (through the dataset's mel cache), so a large corpus costs no more than a small one.
    /// When the split has no validation rows, training rows are used and <paramref name="usedTrainingRows"/> is true.
    /// </summary>
    /// <param name="data">Data options with Path or TrainFilelist set.</param>
    /// <param name="baseDirectory">Folder relative paths are relative to.</param>
    /// <param name="count">How many utterances (at least 1).</param>
    /// <param name="usedTrainingRows">True when the split had no usable validation rows.</param>
    /// <param name="onProblem">Called for each row skipped (with its problems).</param>
    /// <exception cref="DatasetNotFoundException">The dataset folder, metadata or filelist does not exist.</exception>
    /// <exception cref="ArgumentException">Neither a path nor a training filelist is set.</exception>
    public static IReadOnlyList<DiagnosticInput> ValidationSentences(DataOptions data, string baseDirectory, int count,
        out bool usedTrainingRows, Action<DatasetProblem>? onProblem = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var baseDir = Path.GetFullPath(baseDirectory);
        string Resolve(string p) => Path.GetFullPath(Path.Combine(baseDir, p));

        DatasetListing listing;
        IEnumerable<DatasetEntry> validation;
        if (!string.IsNullOrWhiteSpace(data.TrainFilelist))
        {
            listing = DatasetReader.ReadFilelist(Resolve(data.TrainFilelist));
            if (!string.IsNullOrWhiteSpace(data.ValidationFilelist))
            {
                validation = DatasetReader.ReadFilelist(Resolve(data.ValidationFilelist)).Entries;
            }
            else
            {
                var split = new DatasetSplit(null, data.ValidationFraction);
                validation = listing.Entries.Where(e => split.IsValidation(e.Id));
            }
        }
        else if (!string.IsNullOrWhiteSpace(data.Path))
        {
            listing = DatasetReader.Read(Resolve(data.Path));
            var split = DatasetSplit.For(listing, data.ValidationFraction);
            validation = listing.Entries.Where(e => split.IsValidation(e.Id));
        }
        else
        {
            throw new ArgumentException("The data options name no dataset (data.path or data.train_filelist).", nameof(data));
        }

        var cacheFolder = string.IsNullOrWhiteSpace(data.MelCachePath) ? Path.Combine(listing.Root, ".melcache") : Resolve(data.MelCachePath);
        var cache = new MelCache(cacheFolder, data);
        var validator = new DatasetValidator(data);
        var mel = new MelSpectrogram(data);

        List<DiagnosticInput> Take(IEnumerable<DatasetEntry> entries)
        {
            var list = new List<DiagnosticInput>();
            foreach (var entry in entries)
            {
                if (list.Count >= count) break;
                var check = validator.Check(entry, keepAudio: true);
                if (!check.Usable || check.Audio is null)
                {
                    foreach (var p in check.Problems) onProblem?.Invoke(p);
                    continue;
                }
                var spectrogram = cache.GetOrCompute(entry.AudioPath, () => mel.Compute(check.Audio.Samples));
                list.Add(new DiagnosticInput(entry.Id, entry.Text, check.TokenIds!, spectrogram.Frames, spectrogram));
            }
            return list;
        }

        var chosen = Take(validation);
        usedTrainingRows = chosen.Count == 0;
        return usedTrainingRows ? Take(listing.Entries) : chosen;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsModel) _model.Dispose();
    }
}
