using TacotronRecovery.Core.Audio;
using TacotronRecovery.Engine.Model;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Training;

/// <summary>One utterance as the trainer needs it: token ids and its log-mel (channel-major).</summary>
public sealed record TrainingExample(string Id, int[] TokenIds, Mel Mel);

/// <summary>
/// A padded batch on a device. Text padded with the pad id 0; mels padded with zeros to a multiple of the
/// reduction factor; gate target 1 from the first frame of the decoder step holding the last valid frame on
/// (<see cref="Batching.GateTargets"/>). Padding never reaches a loss (masks use lengths).
/// </summary>
public sealed class TrainingBatch : IDisposable
{
    private TrainingBatch(Tensor text, Tensor textLengths, Tensor mels, Tensor melLengths, Tensor gateTargets, int[] frames, int[] tokens, string[] ids)
    {
        Text = text; TextLengths = textLengths; Mels = mels; MelLengths = melLengths; GateTargets = gateTargets;
        Frames = frames; Tokens = tokens; Ids = ids;
    }

    /// <summary>[B, N] int64.</summary>
    public Tensor Text { get; }
    /// <summary>[B] int64.</summary>
    public Tensor TextLengths { get; }
    /// <summary>[B, nMels, T] float32, T a multiple of r.</summary>
    public Tensor Mels { get; }
    /// <summary>[B] int64 valid frames.</summary>
    public Tensor MelLengths { get; }
    /// <summary>[B, T] float32.</summary>
    public Tensor GateTargets { get; }
    /// <summary>Valid frames per utterance (host copy).</summary>
    public int[] Frames { get; }
    /// <summary>Valid tokens per utterance (host copy).</summary>
    public int[] Tokens { get; }
    /// <summary>Utterance ids.</summary>
    public string[] Ids { get; }
    /// <summary>Utterances in the batch.</summary>
    public int Size => Ids.Length;

    /// <summary>Pads and moves a list of examples to <paramref name="device"/>.</summary>
    public static TrainingBatch Collate(IReadOnlyList<TrainingExample> examples, int framesPerStep, Device device)
    {
        if (examples.Count == 0) throw new ArgumentException("A batch needs at least one utterance.", nameof(examples));
        int b = examples.Count;
        int channels = examples[0].Mel.Channels;
        int maxTokens = examples.Max(e => e.TokenIds.Length);
        int maxFrames = examples.Max(e => e.Mel.Frames);
        if (maxFrames % framesPerStep != 0) maxFrames += framesPerStep - maxFrames % framesPerStep;

        var text = new long[b * maxTokens];
        var mels = new float[b * channels * maxFrames];
        var gate = new float[b * maxFrames];
        var textLengths = new long[b];
        var melLengths = new long[b];
        var frames = new int[b];
        var tokens = new int[b];
        var ids = new string[b];
        for (int i = 0; i < b; i++)
        {
            var e = examples[i];
            if (e.Mel.Channels != channels) throw new ArgumentException($"Utterance '{e.Id}' has {e.Mel.Channels} mel channels, expected {channels}.");
            ids[i] = e.Id;
            tokens[i] = e.TokenIds.Length;
            frames[i] = e.Mel.Frames;
            textLengths[i] = e.TokenIds.Length;
            melLengths[i] = e.Mel.Frames;
            for (int n = 0; n < e.TokenIds.Length; n++) text[i * maxTokens + n] = e.TokenIds[n];
            for (int c = 0; c < channels; c++)
                Array.Copy(e.Mel.Data, c * e.Mel.Frames, mels, (i * channels + c) * maxFrames, e.Mel.Frames);
            for (int t = Batching.FirstStopFrame(e.Mel.Frames, framesPerStep); t < maxFrames; t++) gate[i * maxFrames + t] = 1f;
        }
        return new TrainingBatch(
            tensor(text, new long[] { b, maxTokens }, ScalarType.Int64).to(device),
            tensor(textLengths, ScalarType.Int64).to(device),
            tensor(mels, new long[] { b, channels, maxFrames }).to(device),
            tensor(melLengths, ScalarType.Int64).to(device),
            tensor(gate, new long[] { b, maxFrames }).to(device),
            frames, tokens, ids);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Text.Dispose(); TextLengths.Dispose(); Mels.Dispose(); MelLengths.Dispose(); GateTargets.Dispose();
    }
}
