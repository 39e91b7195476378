using TacotronRecovery.Core.Audio;

namespace TacotronRecovery.Core.Tests.Audio;

public sealed class ResamplerTests
{
    [Theory]
    [InlineData(44100, 22050)]
    [InlineData(48000, 22050)]
    [InlineData(16000, 22050)]
    [InlineData(22050, 16000)]
    public void Resample_440HzTone_KeepsFrequencyLengthAndLevel(int from, int to)
    {
        float[] input = Signals.Sine(from, 440, 0.5, from); // one second

        float[] output = Resampler.Resample(input, from, to);

        Assert.Equal(to, output.Length);
        int margin = to / 20; // skip 50 ms at each end, where the signal starts abruptly
        Assert.InRange(Signals.ZeroCrossingFrequency(output, to, margin, to - margin), 439.95, 440.05);
        double expectedDb = 20 * Math.Log10(0.5 / Math.Sqrt(2)); // -9.03 dBFS
        Assert.InRange(Signals.RmsDb(output, margin, to - margin), expectedDb - 0.02, expectedDb + 0.02);
    }

    [Fact]
    public void Resample_ToneAboveNewNyquist_IsRemoved()
    {
        float[] input = Signals.Sine(44100, 15000, 0.5, 44100);

        float[] output = Resampler.Resample(input, 44100, 22050);

        // would alias to 7050 Hz at full level (-9 dBFS) without the low-pass
        Assert.True(Signals.RmsDb(output, 2000, 20000) < -100, $"{Signals.RmsDb(output, 2000, 20000):F1} dBFS left"); // measured -118.7
    }

    [Fact]
    public void Resample_ToneInPassBand_IsNotAttenuated()
    {
        float[] input = Signals.Sine(44100, 8000, 0.5, 44100);

        float[] output = Resampler.Resample(input, 44100, 22050);

        double expectedDb = 20 * Math.Log10(0.5 / Math.Sqrt(2));
        Assert.InRange(Signals.RmsDb(output, 2000, 20000), expectedDb - 0.05, expectedDb + 0.05);
    }

    [Fact]
    public void Resample_SameRate_ReturnsACopy()
    {
        float[] input = [0.1f, -0.2f, 0.3f];

        float[] output = Resampler.Resample(input, 22050, 22050);

        Assert.Equal(input, output);
        Assert.NotSame(input, output);
    }

    [Fact]
    public void BesselI0_KnownValues()
    {
        Assert.Equal(1.0, Resampler.BesselI0(0), 15);
        Assert.Equal(1.2660658777520082, Resampler.BesselI0(1), 14);
        Assert.Equal(2815.716628466254, Resampler.BesselI0(10), 9);
    }
}
