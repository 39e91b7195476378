using TacotronRecovery.Core.Audio;
using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Core.Tests.Audio;

public sealed class GriffinLimTests
{
    private static readonly DataOptions Defaults = new();

    [Fact]
    public void Run_ToneMagnitude_ConvergesBelowBound()
    {
        float[] tone = Signals.Sine(22050, 440, 0.5, 86 * 256); // a whole number of hops: the output has the same length
        double[] target = StftMagnitude(tone, out int frames);

        double[] random = GriffinLim.Run(target, frames, Defaults, iterations: 0, seed: 1);
        double[] classic = GriffinLim.Run(target, frames, Defaults, iterations: 60, seed: 1, momentum: 0);
        double[] fast = GriffinLim.Run(target, frames, Defaults, iterations: 60, seed: 1);

        double scRandom = GriffinLim.SpectralConvergence(random, target, frames, Defaults);
        double scClassic = GriffinLim.SpectralConvergence(classic, target, frames, Defaults);
        double scFast = GriffinLim.SpectralConvergence(fast, target, frames, Defaults);
        // measured here: random 0.633, classic 0.163, fast (momentum 0.99) 0.080
        Assert.True(scRandom > 0.5, $"random phases {scRandom:F4}");
        Assert.True(scClassic < 0.2, $"classic Griffin-Lim {scClassic:F4}");
        Assert.True(scFast < 0.1, $"fast Griffin-Lim {scFast:F4}");
        Assert.Equal(tone.Length, fast.Length);
    }

    [Fact]
    public void Run_TruePhases_ReconstructsTheSignalExactly()
    {
        float[] tone = Signals.Sine(22050, 440, 0.5, 40 * 256);
        double[] target = StftMagnitude(tone, out int frames);

        double[] signal = GriffinLim.Run(target, frames, Defaults, iterations: 0, seed: 0, initialSignal: tone.Select(v => (double)v).ToArray());

        Assert.Equal(tone.Length, signal.Length);
        Assert.True(signal.Zip(tone, (a, b) => Math.Abs(a - b)).Max() < 1e-9); // the ISTFT inverts the STFT
        Assert.True(GriffinLim.SpectralConvergence(signal, target, frames, Defaults) < 1e-9);
    }

    [Fact]
    public void Reconstruct_ToneMel_GivesTheToneBackWithMatchingMel()
    {
        float[] tone = Signals.Sine(22050, 440, 0.5, 22050);
        var mel = new MelSpectrogram(Defaults);
        var input = mel.Compute(tone);

        float[] audio = GriffinLim.Reconstruct(input, Defaults);

        Assert.Equal((input.Frames - 1) * 256, audio.Length);
        Assert.All(audio, v => Assert.InRange(v, -0.99f, 0.99f));
        // mel bands here are 37 Hz apart, so the pitch comes back within half a band (measured: 446.8 Hz)
        Assert.InRange(PeakFrequency(audio, 2000), 421.5, 458.5);
        var output = mel.Compute(audio);
        double r = Correlation(input, output, 4, input.Frames - 4);
        Assert.True(r > 0.98, $"log-mel correlation {r:F4}"); // measured 0.9978
    }

    [Fact]
    public void Reconstruct_ReferenceSignalMel_CorrelatesWithTheInputMel()
    {
        var mel = new MelSpectrogram(Defaults);
        var input = mel.Compute(MelSpectrogramTests.ReferenceSignal()); // tones + chirp + noise

        var output = mel.Compute(GriffinLim.Reconstruct(input, Defaults));

        double r = Correlation(input, output, 4, input.Frames - 4);
        Assert.True(r > 0.9, $"log-mel correlation {r:F4}"); // measured 0.9453
    }

    [Fact]
    public void Reconstruct_SameSeed_IsDeterministic()
    {
        var mel = new MelSpectrogram(Defaults).Compute(MelSpectrogramTests.ReferenceSignal());

        float[] a = GriffinLim.Reconstruct(mel, Defaults, iterations: 5, seed: 3);
        float[] b = GriffinLim.Reconstruct(mel, Defaults, iterations: 5, seed: 3);
        float[] c = GriffinLim.Reconstruct(mel, Defaults, iterations: 5, seed: 4);

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Reconstruct_WrongChannelCount_ThrowsNamingTheKey()
    {
        var mel = new Mel(40, 3, new float[120]);

        var ex = Assert.Throws<ArgumentException>(() => GriffinLim.Reconstruct(mel, Defaults));

        Assert.Contains("data.n_mel_channels is 80", ex.Message);
    }

    [Fact]
    public void Reconstruct_NonFiniteMel_GivesFiniteQuietAudio()
    {
        var data = Enumerable.Repeat(float.NaN, 80 * 10).ToArray();

        float[] audio = GriffinLim.Reconstruct(new Mel(80, 10, data), Defaults, iterations: 3);

        Assert.Equal(9 * 256, audio.Length);
        Assert.All(audio, v => Assert.True(float.IsFinite(v)));
    }

    internal static double[] StftMagnitude(float[] x, out int frames)
    {
        var fft = RealFft.Get(1024);
        double[] window = MelSpectrogram.CreateWindow(1024, 1024);
        frames = 1 + x.Length / 256;
        var mag = new double[frames * 513];
        var frame = new double[1024];
        var re = new double[513];
        var im = new double[513];
        var scratch = new double[1024];
        for (int t = 0; t < frames; t++)
        {
            for (int i = 0; i < 1024; i++)
            {
                frame[i] = x[MelSpectrogram.Reflect(t * 256 - 512 + i, x.Length)] * window[i];
            }
            fft.Forward(frame, re, im, scratch);
            for (int k = 0; k < 513; k++)
            {
                mag[t * 513 + k] = Math.Sqrt(re[k] * re[k] + im[k] * im[k]);
            }
        }
        return mag;
    }

    /// <summary>Frequency of the largest DFT bin of 16384 Hann-windowed samples from <paramref name="from"/> (1.35 Hz bins).</summary>
    private static double PeakFrequency(float[] x, int from)
    {
        const int n = 16384;
        var fft = RealFft.Get(n);
        double[] window = MelSpectrogram.CreateWindow(n, n);
        double[] frame = Enumerable.Range(0, n).Select(i => x[from + i] * window[i]).ToArray();
        var re = new double[n / 2 + 1];
        var im = new double[n / 2 + 1];
        fft.Forward(frame, re, im, new double[n]);
        int peak = Enumerable.Range(0, n / 2 + 1).MaxBy(k => re[k] * re[k] + im[k] * im[k]);
        return peak * 22050.0 / n;
    }

    private static double Correlation(Mel a, Mel b, int from, int to)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        for (int c = 0; c < a.Channels; c++)
        {
            for (int t = from; t < to; t++)
            {
                xs.Add(a[c, t]);
                ys.Add(b[c, t]);
            }
        }
        double mx = xs.Average(), my = ys.Average();
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < xs.Count; i++)
        {
            sxy += (xs[i] - mx) * (ys[i] - my);
            sxx += (xs[i] - mx) * (xs[i] - mx);
            syy += (ys[i] - my) * (ys[i] - my);
        }
        return sxy / Math.Sqrt(sxx * syy);
    }
}
