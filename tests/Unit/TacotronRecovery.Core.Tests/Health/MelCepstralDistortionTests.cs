using TacotronRecovery.Core.Health;
using Xunit.Abstractions;

namespace TacotronRecovery.Core.Tests.Health;

/// <summary>Synthetic calibration of MCD-DTW (docs/metrics.md prints these figures).</summary>
public class MelCepstralDistortionTests(ITestOutputHelper output)
{
    private const int Channels = 80;

    /// <summary>A speech-like log mel: two formant bumps gliding over time, on a sloping floor (natural log, -11.5..1).</summary>
    private static float[] Speechlike(int frames, double speed = 1.0, int seed = 0)
    {
        var rng = new Random(seed);
        var mel = new float[Channels * frames];
        for (int t = 0; t < frames; t++)
        {
            double u = t * speed;
            double f1 = 15 + 8 * Math.Sin(u / 9.0), f2 = 45 + 12 * Math.Sin(u / 13.0 + 1);
            double loud = 0.5 + 0.5 * Math.Sin(u / 5.0);
            for (int c = 0; c < Channels; c++)
            {
                double v = -6 - 0.04 * c + loud * (5 * Math.Exp(-Math.Pow((c - f1) / 4, 2)) + 4 * Math.Exp(-Math.Pow((c - f2) / 6, 2)));
                mel[c * frames + t] = (float)Math.Max(-11.5, v);
            }
        }
        return mel;
    }

    private static float[] AddNoise(float[] mel, double sigma, int seed)
    {
        var rng = new Random(seed);
        return mel.Select(v => (float)(v + sigma * Gauss(rng))).ToArray();
    }

    private static double Gauss(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static float[] Shift(float[] mel, int frames, int by)
    {
        // Prepend `by` frames of silence floor: the same content later in time.
        int n = frames + by;
        var shifted = new float[Channels * n];
        for (int c = 0; c < Channels; c++)
        {
            for (int t = 0; t < by; t++) shifted[c * n + t] = -11.5f;
            Array.Copy(mel, c * frames, shifted, c * n + by, frames);
        }
        return shifted;
    }

    private static double Mcd(float[] a, int fa, float[] b, int fb) => MelCepstralDistortion.Compute(a, fa, b, fb, Channels);

    [Fact]
    public void Identical_IsZero()
    {
        var mel = Speechlike(120);
        Assert.Equal(0, Mcd(mel, 120, mel, 120), 9);
    }

    [Fact]
    public void Calibration_SyntheticCases_Ordered()
    {
        var reference = Speechlike(120);
        double identical = Mcd(reference, 120, reference, 120);
        double shifted = Mcd(Shift(reference, 120, 10), 130, reference, 120);
        double stretched = Mcd(Speechlike(150, speed: 0.8), 150, reference, 120);   // the same trajectory, 25 % slower
        double noise05 = Mcd(AddNoise(reference, 0.5, 1), 120, reference, 120);
        double noise1 = Mcd(AddNoise(reference, 1.0, 2), 120, reference, 120);
        double noise2 = Mcd(AddNoise(reference, 2.0, 3), 120, reference, 120);
        var silence = Enumerable.Repeat(-11.5f, Channels * 120).ToArray();
        double flat = Mcd(silence, 120, reference, 120);
        double babble = Mcd(Speechlike(400, speed: 2.7, seed: 4), 400, reference, 120); // 400 frames of fast, other sound
        output.WriteLine($"identical {identical:0.00} dB, shifted 10 frames {shifted:0.00}, stretched 1.25× {stretched:0.00}, noise σ 0.5 {noise05:0.00}, σ 1 {noise1:0.00}, σ 2 {noise2:0.00}, flat floor {flat:0.00}, babble 400 frames {babble:0.00}");

        Assert.Equal(0, identical, 9);
        Assert.True(shifted < 1.0, $"shift: {shifted}");          // DTW absorbs a time shift (only the silent lead differs)
        Assert.True(stretched < 1.0, $"stretch: {stretched}");    // and a tempo change
        Assert.True(noise05 < noise1 && noise1 < noise2, $"{noise05} {noise1} {noise2}");
        Assert.True(flat > noise05, $"flat {flat}");
        Assert.True(babble > stretched, $"babble {babble}");
    }

    [Fact]
    public void Cepstra_DropC0_LevelDoesNotMatter()
    {
        var reference = Speechlike(60);
        var louder = reference.Select(v => v + 2f).ToArray(); // +2 nats on every band: only c0 changes
        Assert.Equal(0, Mcd(louder, 60, reference, 60), 6);
    }

    [Fact]
    public void Compute_EmptyOrNonFinite_NaN()
    {
        var mel = Speechlike(10);
        Assert.True(double.IsNaN(Mcd(mel, 0, mel, 10)));
        var bad = (float[])mel.Clone();
        bad[5] = float.NaN;
        Assert.True(double.IsNaN(Mcd(bad, 10, mel, 10)));
        Assert.Throws<ArgumentOutOfRangeException>(() => MelCepstralDistortion.Cepstra(mel, Channels, 10, 80));
    }
}
