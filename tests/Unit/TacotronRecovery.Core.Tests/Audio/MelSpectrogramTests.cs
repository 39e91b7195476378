using System.Text.Json;
using TacotronRecovery.Core.Audio;
using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Core.Tests.Audio;

public sealed class MelSpectrogramTests
{
    private static readonly DataOptions Defaults = new();
    private static readonly MelSpectrogram Mel = new(Defaults);

    /// <summary>The formula test signal of tools/mel_reference.py, rounded to float32 like there.</summary>
    internal static float[] ReferenceSignal()
    {
        const int n = 11025;
        var x = new float[n];
        uint s = 12345;
        double k = (7000.0 - 100.0) / 0.5;
        for (int i = 0; i < n; i++)
        {
            double t = i / 22050.0;
            double v = 0.30 * Math.Sin(2 * Math.PI * 220.0 * t)
                + 0.20 * Math.Sin(2 * Math.PI * 1330.0 * t + 0.5)
                + 0.08 * Math.Sin(2 * Math.PI * 5000.0 * t)
                + 0.15 * Math.Sin(2 * Math.PI * (100.0 * t + 0.5 * k * t * t));
            s = unchecked(1664525u * s + 1013904223u);
            v += 0.05 * (s / 2147483648.0 - 1.0);
            x[i] = (float)v;
        }
        return x;
    }

    private static JsonElement Reference()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Audio", "mel_reference.json");
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement;
    }

    [Fact]
    public void Compute_ReferenceSignal_MatchesNumpyReferenceWithin1e4()
    {
        var reference = Reference();
        float[] x = ReferenceSignal();
        Assert.Equal(reference.GetProperty("signal_rms").GetDouble(), Math.Sqrt(x.Average(v => (double)v * v)), 9);

        var mel = Mel.Compute(x);

        Assert.Equal(80, mel.Channels);
        Assert.Equal(reference.GetProperty("total_frames").GetInt32(), mel.Frames);
        int compared = 0;
        double worst = 0;
        foreach (var frame in reference.GetProperty("frames").EnumerateArray())
        {
            int t = frame.GetProperty("index").GetInt32();
            var values = frame.GetProperty("log_mel").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(80, values.Length);
            for (int c = 0; c < 80; c++)
            {
                double diff = Math.Abs(mel[c, t] - values[c]);
                worst = Math.Max(worst, diff);
                Assert.True(diff < 1e-4, $"frame {t} band {c}: C# {mel[c, t]} vs reference {values[c]}");
                compared++;
            }
        }
        Assert.Equal(7 * 80, compared);
        Assert.Equal(reference.GetProperty("mean_log_mel").GetDouble(), mel.Data.Average(v => (double)v), 4);
    }

    [Fact]
    public void Filterbank_Default_MatchesReferenceRowSumsPeaksAndCentres()
    {
        var reference = Reference();
        var fb = MelFilterbank.Create(22050, 1024, 80, 0, 8000);
        double[] dense = fb.ToDense();
        var sums = reference.GetProperty("filterbank_row_sums").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var peaks = reference.GetProperty("filterbank_row_peaks").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var argmax = reference.GetProperty("filterbank_row_argmax").EnumerateArray().Select(e => e.GetInt32()).ToArray();

        for (int m = 0; m < 80; m++)
        {
            var row = dense.AsSpan(m * 513, 513).ToArray();
            Assert.Equal(sums[m], row.Sum(), 9);
            Assert.Equal(peaks[m], row.Max(), 9);
            Assert.Equal(argmax[m], Array.IndexOf(row, row.Max()));
        }
        // Slaney scale anchors: 1 kHz is mel 15 exactly, linear below.
        Assert.Equal(15.0, MelFilterbank.HzToMel(1000), 12);
        Assert.Equal(7.5, MelFilterbank.HzToMel(500), 12);
        Assert.Equal(8000, MelFilterbank.MelToHz(MelFilterbank.HzToMel(8000)), 9);
        // no bin above fmax carries weight
        Assert.All(Enumerable.Range(0, 80), m => Assert.True(fb.Start[m] + fb.Weights[m].Length - 1 <= 8000 * 1024 / 22050));
    }

    [Fact]
    public void Filterbank_LibrosaDocumentedExample_MatchesPublishedValues()
    {
        // librosa.filters.mel(sr=22050, n_fft=2048) (n_mels 128, fmax 11025): the librosa docs print melfb[0, 1] as 0.016;
        // the docs of the Rust port mel_filter (which reproduces librosa in float64) list the first non-zero weights.
        var fb = MelFilterbank.Create(22050, 2048, 128, 0, 11025);
        double[] dense = fb.ToDense();
        double[] row0 = [0, 0.016182853208219942, 0.032365706416439884, 0.028990088037379964, 0.012807234829160026, 0];
        double[] row1 = [0, 0, 0, 0.009779235793639925, 0.025962089001859864, 0.035393705451959974, 0.01921085224374004, 0.003027999035520103, 0];

        Assert.Equal(1025, fb.Bins);
        Assert.Equal(0.016, Math.Round(dense[1], 3));
        for (int k = 0; k < row0.Length; k++)
        {
            Assert.Equal(row0[k], dense[k], 1e-8); // float32 storage
        }
        for (int k = 0; k < row1.Length; k++)
        {
            Assert.Equal(row1[k], dense[1025 + k], 1e-8);
        }
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(255, 1)]
    [InlineData(256, 2)]
    [InlineData(600, 3)]
    [InlineData(11025, 44)]
    [InlineData(22050, 87)]
    public void Compute_Length_GivesOnePlusLengthOverHopFrames(int samples, int frames)
    {
        var x = Signals.Sine(22050, 300, 0.5, samples);

        var mel = Mel.Compute(x);

        Assert.Equal(frames, mel.Frames);
        Assert.Equal(80 * frames, mel.Data.Length);
        Assert.All(mel.Data, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Compute_Silence_IsTheLogClampFloorEverywhere()
    {
        var mel = Mel.Compute(new float[4000]);

        Assert.All(mel.Data, v => Assert.Equal((float)Math.Log(1e-5), v));
    }

    [Fact]
    public void Compute_1kHzTone_PeaksInTheBandCentredNearest1kHz()
    {
        var mel = Mel.Compute(Signals.Sine(22050, 1000, 0.5, 22050));
        // band m is centred at MelToHz(15.0... ) : the edges are linspace(0, mel(8000), 82); centre of band m is edge m+1
        double step = MelFilterbank.HzToMel(8000) / 81;
        int expected = Enumerable.Range(0, 80).MinBy(m => Math.Abs(MelFilterbank.MelToHz((m + 1) * step) - 1000));
        int t = mel.Frames / 2;

        int peak = Enumerable.Range(0, 80).MaxBy(c => mel[c, t]);

        Assert.Equal(expected, peak);
        Assert.Equal(26, peak);
    }

    [Fact]
    public void Compute_ManyThreadsOnOneInstance_GiveIdenticalResults()
    {
        float[] x = ReferenceSignal();
        float[] expected = Mel.Compute(x).Data;
        var results = new float[16][];

        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => results[i] = Mel.Compute(x).Data);

        Assert.All(results, r => Assert.Equal(expected, r));
    }

    [Theory]
    [InlineData(1000, 256, 1024, "data.filter_length")]
    [InlineData(1024, 0, 1024, "data.hop_length")]
    [InlineData(1024, 256, 2048, "data.win_length")]
    public void Constructor_BadOption_ThrowsNamingTheKey(int filterLength, int hop, int win, string key)
    {
        var options = new DataOptions { FilterLength = filterLength, HopLength = hop, WinLength = win };

        var ex = Assert.Throws<ArgumentException>(() => new MelSpectrogram(options));

        Assert.Contains(key, ex.Message);
    }

    [Fact]
    public void Constructor_FmaxAboveNyquist_ThrowsNamingTheKey()
    {
        var ex = Assert.Throws<ArgumentException>(() => new MelSpectrogram(new DataOptions { SampleRate = 16000, MelFmax = 8001 }));

        Assert.Contains("data.mel_fmin/mel_fmax", ex.Message);
    }

    [Theory]
    [InlineData(-1, 10, 1)]
    [InlineData(-3, 10, 3)]
    [InlineData(10, 10, 8)]
    [InlineData(12, 10, 6)]
    [InlineData(-9, 10, 9)]
    [InlineData(-10, 10, 8)]
    [InlineData(5, 1, 0)]
    [InlineData(-4, 3, 0)]
    public void Reflect_IndexOutsideSignal_MirrorsWithoutRepeatingTheEdge(int index, int length, int expected)
    {
        Assert.Equal(expected, MelSpectrogram.Reflect(index, length));
    }

    [Theory]
    [InlineData(4)]
    [InlineData(64)]
    [InlineData(1024)]
    public void RealFft_RandomInput_MatchesNaiveDftAndInverts(int n)
    {
        var random = new Random(n);
        double[] x = Enumerable.Range(0, n).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        var fft = RealFft.Get(n);
        var re = new double[n / 2 + 1];
        var im = new double[n / 2 + 1];
        var scratch = new double[n];

        fft.Forward(x, re, im, scratch);

        for (int k = 0; k <= n / 2; k++)
        {
            double sr = 0, si = 0;
            for (int j = 0; j < n; j++)
            {
                sr += x[j] * Math.Cos(2 * Math.PI * k * j / n);
                si -= x[j] * Math.Sin(2 * Math.PI * k * j / n);
            }
            Assert.True(Math.Abs(sr - re[k]) < 1e-8, $"re[{k}]: {re[k]} vs {sr}");
            Assert.True(Math.Abs(si - im[k]) < 1e-8, $"im[{k}]: {im[k]} vs {si}");
        }
        var back = new double[n];
        fft.Inverse(re, im, back, scratch);
        for (int j = 0; j < n; j++)
        {
            Assert.Equal(x[j], back[j], 12);
        }
    }
}
