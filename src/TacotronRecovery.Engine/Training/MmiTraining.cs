using TacotronRecovery.Core.Config;
using TacotronRecovery.Engine.Checkpoints;
using TacotronRecovery.Engine.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Training;

/// <summary>
/// The training-only half of MMI (<c>training.mmi</c>, docs/model.md): the CTC recogniser with its own optimizer, and
/// the dataset's mean mel for frame dropout. The Tacotron 2 never holds the recogniser, so the model section of a
/// checkpoint, exports and synthesis are the same with and without MMI; the recogniser and its optimizer state travel in
/// the checkpoint's <c>mmi</c> and <c>mmi_optimizer</c> sections. Whether a step uses it is the recovery controller's
/// <see cref="Core.Recovery.Knobs.Mmi"/> (safe mode turns it off; the recogniser then rests, untouched).
/// </summary>
public sealed class MmiTraining : IDisposable
{
    /// <summary>Checkpoint section of the recogniser's weights.</summary>
    public const string Section = "mmi";
    /// <summary>Checkpoint section of the recogniser's optimizer state.</summary>
    public const string OptimizerSection = "mmi_optimizer";

    private readonly OptimizerHelper _optimizer;
    private readonly Parameter[] _parameters;
    private readonly int _r;

    /// <summary>Recogniser (initialised from <paramref name="seed"/> without touching the training's random stream) and mean mel.</summary>
    public MmiTraining(TacotronConfig config, IReadOnlyList<TrainingExample> train, Device device, int seed)
    {
        var t = config.Training;
        _r = config.Model.NFramesPerStep;
        Weight = t.MmiWeight;
        FrameDropoutRate = t.MmiFrameDropout;
        Recognizer = SeededRandom.Run(seed, () => new MmiRecognizer("mmi", config.Model.DecoderRnnDim, config.Model.NSymbols));
        Recognizer.to(device);
        _parameters = Recognizer.parameters().ToArray();
        _optimizer = Optimizers.Create(t.Optimizer, _parameters, t.LearningRate, t.WeightDecay);
        MeanMel = MeanOf(train, config.Model.NMelChannels).to(device).DetachFromDisposeScope();
    }

    /// <summary>The CTC recogniser.</summary>
    public MmiRecognizer Recognizer { get; }
    /// <summary>The training set's mean log-mel per channel [nMels] (every frame of every utterance counts once).</summary>
    public Tensor MeanMel { get; }
    /// <summary><c>training.mmi_weight</c>.</summary>
    public double Weight { get; }
    /// <summary><c>training.mmi_frame_dropout</c>.</summary>
    public double FrameDropoutRate { get; }

    /// <summary>The decoder's teacher-forced inputs for this step: the batch's mels with frame dropout.</summary>
    public Tensor Inputs(TrainingBatch batch) => FrameDropout.Apply(batch.Mels, MeanMel, batch.MelLengths, FrameDropoutRate);

    /// <summary>The losses with the recogniser's CTC loss on <paramref name="output"/>'s decoder outputs added.</summary>
    public LossComponents AddLoss(LossComponents losses, Tacotron2Output output, TrainingBatch batch)
    {
        var decoderOutputs = output.DecoderOutputs
            ?? throw new InvalidOperationException("The forward ran without a GradientAdaptiveFactor: no decoder outputs for the MMI recogniser.");
        Recognizer.train();
        var steps = tensor(batch.Frames.Select(f => (long)((f + _r - 1) / _r)).ToArray(), ScalarType.Int64).to(decoderOutputs.device);
        var mmi = Recognizer.Loss(decoderOutputs, batch.Text, steps, batch.TextLengths);
        return Tacotron2Loss.WithMmi(losses, mmi, Weight);
    }

    /// <summary>Clips the recogniser's gradient at <paramref name="clipThreshold"/>, then steps its optimizer at <paramref name="learningRate"/>.</summary>
    public void Step(double learningRate, double clipThreshold)
    {
        foreach (var g in _optimizer.ParamGroups) g.LearningRate = learningRate;
        nn.utils.clip_grad_norm_(_parameters, clipThreshold);
        _optimizer.step();
    }

    /// <summary>Clears the recogniser's gradients.</summary>
    public void ZeroGrad() => _optimizer.zero_grad();

    /// <summary>The checkpoint sections of the recogniser and its optimizer.</summary>
    public IReadOnlyList<(string Name, Action<BinaryWriter> Save)> Sections() => new (string, Action<BinaryWriter>)[]
    {
        (Section, w => Recognizer.save(w)),
        (OptimizerSection, w => _optimizer.save_state_dict(w)),
    };

    /// <summary>Restores recogniser and optimizer from a checkpoint; false when it has no MMI state (the recogniser is kept as it is).</summary>
    public bool Restore(LoadedCheckpoint checkpoint)
    {
        if (!checkpoint.ApplySection(Section, Recognizer)) return false;
        checkpoint.ApplySection(OptimizerSection, _optimizer);
        return true;
    }

    /// <summary>Mean log-mel per channel over every frame of <paramref name="examples"/> [channels].</summary>
    public static Tensor MeanOf(IReadOnlyList<TrainingExample> examples, int channels)
    {
        var sums = new double[channels];
        long frames = 0;
        foreach (var e in examples)
        {
            if (e.Mel.Channels != channels) throw new ArgumentException($"Utterance '{e.Id}' has {e.Mel.Channels} mel channels, expected {channels}.", nameof(examples));
            for (int c = 0; c < channels; c++)
            {
                double s = 0;
                var offset = c * e.Mel.Frames;
                for (int f = 0; f < e.Mel.Frames; f++) s += e.Mel.Data[offset + f];
                sums[c] += s;
            }
            frames += e.Mel.Frames;
        }
        if (frames == 0) throw new ArgumentException("The mean mel needs at least one frame.", nameof(examples));
        return tensor(sums.Select(s => (float)(s / frames)).ToArray());
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _optimizer.Dispose();
        Recognizer.Dispose();
        MeanMel.Dispose();
    }
}
