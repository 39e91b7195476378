namespace TacotronRecovery.Core.Audio;

/// <summary>Level measurements on mono samples in [-1, 1].</summary>
public static class AudioAnalysis
{
    /// <summary>Window of <see cref="IsSilence"/>, in samples (23 ms at 22050 Hz).</summary>
    internal const int SilenceWindow = 512;

    /// <summary>
    /// Root-mean-square level in dB relative to full scale: 20·log10(sqrt(mean(s²))). A full-scale sine is −3.01 dB,
    /// a full-scale square wave 0 dB. Empty or all-zero input gives <see cref="double.NegativeInfinity"/>.
    /// </summary>
    /// <param name="s">Samples.</param>
    public static double RmsDb(ReadOnlySpan<float> s)
    {
        if (s.IsEmpty)
        {
            return double.NegativeInfinity;
        }
        double sum = 0;
        foreach (float v in s)
        {
            sum += (double)v * v;
        }
        return 10 * Math.Log10(sum / s.Length); // -Infinity when sum is 0
    }

    /// <summary>
    /// True when no part of the clip is louder than <paramref name="thresholdDb"/>: the RMS of every window of 512
    /// samples (hop 256) is below the threshold, so a clip of speech with long pauses is not silence but a clip of
    /// hiss or near-zero samples is. Clips shorter than one window are judged by their whole RMS; empty input is silence.
    /// </summary>
    /// <param name="s">Samples.</param>
    /// <param name="thresholdDb">Level in dBFS below which a window counts as silent (default −45).</param>
    public static bool IsSilence(ReadOnlySpan<float> s, double thresholdDb = -45)
    {
        if (s.Length <= SilenceWindow)
        {
            return !(RmsDb(s) >= thresholdDb);
        }
        for (int start = 0; start < s.Length; start += SilenceWindow / 2)
        {
            int begin = Math.Min(start, s.Length - SilenceWindow);
            if (RmsDb(s.Slice(begin, SilenceWindow)) >= thresholdDb)
            {
                return false;
            }
            if (begin + SilenceWindow >= s.Length)
            {
                break;
            }
        }
        return true;
    }
}
