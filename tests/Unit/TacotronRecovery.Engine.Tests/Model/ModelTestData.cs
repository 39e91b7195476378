using TacotronRecovery.Core.Config;
using TacotronRecovery.Engine.Model;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Tests.Model;

/// <summary>Tiny configurations and deterministic batches for the model tests.</summary>
internal static class ModelTestData
{
    /// <summary>Tiny dimensions (the same as the reference key list in <see cref="StateDictTests"/>).</summary>
    public static ModelOptions Tiny(int r = 1) => new()
    {
        Preset = "tiny", NSymbols = 12, SymbolsEmbeddingDim = 16, EncoderEmbeddingDim = 16, EncoderNConvolutions = 2,
        DecoderRnnDim = 24, AttentionRnnDim = 20, PrenetDim = 8, AttentionDim = 6, AttentionLocationNFilters = 4,
        AttentionLocationKernelSize = 5, PostnetEmbeddingDim = 10, PostnetNConvolutions = 3, NMelChannels = 5,
        NFramesPerStep = r, MaxDecoderSteps = 50,
    };

    /// <summary>Text [B, maxText] with ids 1..nSymbols−1 then padPad; mels [B, nMels, T] ~ N(−1, 0.5) then padMel.</summary>
    public static Batch Make(ModelOptions o, int[] textLengths, int[] melLengths, int seed = 7, long padId = 0,
        float padMel = 0f, int extraTextPad = 0, int extraMelPad = 0)
    {
        var g = new Random(seed);
        var b = textLengths.Length;
        var n = textLengths.Max() + extraTextPad;
        var r = o.NFramesPerStep;
        var t = (melLengths.Max() + extraMelPad + r - 1) / r * r;
        var ids = new long[b * n];
        var mel = new float[b * o.NMelChannels * t];
        for (var i = 0; i < b; i++)
        {
            for (var j = 0; j < n; j++)
            {
                ids[i * n + j] = j < textLengths[i] ? g.Next(1, o.NSymbols) : padId;
            }

            for (var c = 0; c < o.NMelChannels; c++)
            {
                for (var f = 0; f < t; f++)
                {
                    mel[(i * o.NMelChannels + c) * t + f] = f < melLengths[i]
                        ? (float)(-1 + 0.5 * Gaussian(g) + 0.3 * Math.Sin(0.3 * f + c))
                        : padMel;
                }
            }
        }

        var melLengthTensor = tensor(melLengths.Select(x => (long)x).ToArray());
        return new Batch(
            tensor(ids, new long[] { b, n }),
            tensor(textLengths.Select(x => (long)x).ToArray()),
            tensor(mel, new long[] { b, o.NMelChannels, t }),
            melLengthTensor,
            Batching.GateTargets(melLengthTensor, t, o.NFramesPerStep));
    }

    private static double Gaussian(Random g) =>
        Math.Sqrt(-2 * Math.Log(1 - g.NextDouble())) * Math.Cos(2 * Math.PI * g.NextDouble());

    public sealed record Batch(Tensor Text, Tensor TextLengths, Tensor Mels, Tensor MelLengths, Tensor GateTargets);

    /// <summary>One intra-op thread until disposed (tiny tensors; the machine is shared). Restores the previous count.</summary>
    public static IDisposable SingleThread()
    {
        var previous = get_num_threads();
        set_num_threads(1);
        return new Restore(() => set_num_threads(previous));
    }

    private sealed class Restore(Action action) : IDisposable
    {
        public void Dispose() => action();
    }

    /// <summary>Forward + losses.</summary>
    public static LossComponents Loss(Tacotron2 model, Batch x, double gaWeight = 1.0)
    {
        var output = model.Forward(x.Text, x.TextLengths, x.Mels, x.MelLengths);
        return new Tacotron2Loss(1.0, 0.2).Compute(output, x.Mels, x.GateTargets, x.MelLengths, x.TextLengths, gaWeight,
            model.Options.NFramesPerStep);
    }

    /// <summary>Gradients by parameter name, as float arrays (copied out).</summary>
    public static Dictionary<string, float[]> Gradients(Tacotron2 model) =>
        model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad is { } g
            ? g.data<float>().ToArray()
            : Array.Empty<float>());
}
