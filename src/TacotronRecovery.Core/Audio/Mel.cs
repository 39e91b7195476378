namespace TacotronRecovery.Core.Audio;

/// <summary>
/// A log-mel spectrogram, channel-major: the value of mel band <c>c</c> at frame <c>t</c> is <c>Data[c * Frames + t]</c>
/// (the layout of a PyTorch <c>[n_mel_channels, frames]</c> tensor).
/// Values are natural logs of the clamped mel magnitude: ln(max(x, 1e-5)), so the floor is about -11.513.
/// </summary>
/// <param name="Channels">Mel bands (80 in the reference).</param>
/// <param name="Frames">STFT frames: 1 + samples / hop.</param>
/// <param name="Data">Channels × Frames values, channel-major.</param>
public sealed record Mel(int Channels, int Frames, float[] Data)
{
    /// <summary>The value of band <paramref name="channel"/> at frame <paramref name="frame"/>.</summary>
    public float this[int channel, int frame] => Data[channel * Frames + frame];
}
