namespace TacotronRecovery.Core.Audio;

/// <summary>Decoded audio: mono samples in [-1, 1] at <paramref name="SampleRate"/>.</summary>
/// <param name="Samples">Mono samples, clipped to [-1, 1].</param>
/// <param name="SampleRate">Sample rate of <paramref name="Samples"/> (the requested target rate).</param>
/// <param name="Warnings">What was changed while reading (down-mix, resampling, clipping); empty when nothing was.</param>
public sealed record AudioClip(float[] Samples, int SampleRate, IReadOnlyList<string> Warnings)
{
    /// <summary>Length in seconds.</summary>
    public double DurationSeconds => SampleRate > 0 ? (double)Samples.Length / SampleRate : 0;
}
