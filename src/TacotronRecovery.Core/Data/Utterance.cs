using TacotronRecovery.Core.Audio;

namespace TacotronRecovery.Core.Data;

/// <summary>One training example: transcript ids and the target mel.</summary>
/// <param name="Id">Utterance id.</param>
/// <param name="Text">Transcript as written in the dataset.</param>
/// <param name="TokenIds">Symbol ids of the cleaned transcript.</param>
/// <param name="Mel">Log-mel spectrogram (channel-major).</param>
/// <param name="Line">1-based line in the metadata file or filelist.</param>
/// <param name="Path">The WAV file.</param>
public sealed record Utterance(string Id, string Text, int[] TokenIds, Mel Mel, int Line, string Path);
