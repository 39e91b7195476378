namespace TacotronRecovery.Core.Audio;

/// <summary>What a WAV header says, read without decoding samples (<see cref="WavFile.ReadInfo"/>).</summary>
/// <param name="SampleRate">Samples per second per channel.</param>
/// <param name="Channels">Interleaved channels (1 = mono).</param>
/// <param name="BitsPerSample">Container bits per sample: 16, 24 or 32.</param>
/// <param name="IsFloat">True for IEEE float samples, false for integer PCM.</param>
/// <param name="Frames">Sample frames (samples per channel) in the <c>data</c> chunk.</param>
/// <param name="DurationSeconds"><paramref name="Frames"/> / <paramref name="SampleRate"/>.</param>
public sealed record WavInfo(int SampleRate, int Channels, int BitsPerSample, bool IsFloat, long Frames, double DurationSeconds);
