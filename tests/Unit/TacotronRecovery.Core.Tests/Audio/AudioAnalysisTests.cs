using TacotronRecovery.Core.Audio;

namespace TacotronRecovery.Core.Tests.Audio;

public sealed class AudioAnalysisTests
{
    [Fact]
    public void RmsDb_FullScaleSine_IsMinus3Point01()
    {
        Assert.Equal(-3.0103, AudioAnalysis.RmsDb(Signals.Sine(22050, 441, 1.0, 22050)), 3);
    }

    [Fact]
    public void RmsDb_ConstantHalf_IsMinus6Point02()
    {
        Assert.Equal(-6.0206, AudioAnalysis.RmsDb(Enumerable.Repeat(0.5f, 100).ToArray()), 4);
    }

    [Fact]
    public void RmsDb_EmptyOrZeros_IsNegativeInfinity()
    {
        Assert.Equal(double.NegativeInfinity, AudioAnalysis.RmsDb([]));
        Assert.Equal(double.NegativeInfinity, AudioAnalysis.RmsDb(new float[10]));
    }

    [Fact]
    public void IsSilence_ZerosAndQuietHiss_AreSilence()
    {
        var random = new Random(5);
        float[] hiss = Enumerable.Range(0, 22050).Select(_ => (float)((random.NextDouble() * 2 - 1) * 0.001)).ToArray(); // ≈ -65 dBFS

        Assert.True(AudioAnalysis.IsSilence(new float[22050]));
        Assert.True(AudioAnalysis.IsSilence(hiss));
        Assert.True(AudioAnalysis.IsSilence([]));
    }

    [Fact]
    public void IsSilence_ShortBurstInLongSilence_IsNotSilenceThoughWholeRmsIsBelowThreshold()
    {
        var clip = new float[4 * 22050];
        Signals.Sine(22050, 300, 0.05, 1024).CopyTo(clip, 40000); // -29 dBFS for 46 ms

        Assert.True(AudioAnalysis.RmsDb(clip) < -45);
        Assert.False(AudioAnalysis.IsSilence(clip));
    }

    [Fact]
    public void IsSilence_ThresholdIsRespected()
    {
        float[] tone = Signals.Sine(22050, 440, 0.01, 4410); // -43 dBFS

        Assert.False(AudioAnalysis.IsSilence(tone));
        Assert.True(AudioAnalysis.IsSilence(tone, thresholdDb: -40));
    }
}
