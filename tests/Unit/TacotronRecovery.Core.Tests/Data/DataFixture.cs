using System.Text;

namespace TacotronRecovery.Core.Tests.Data;

/// <summary>Writes small WAV files and dataset folders for the data tests (its own writer, independent of WavFile).</summary>
internal static class DataFixture
{
    public static string NewFolder()
    {
        var dir = Path.Combine(Path.GetTempPath(), "trdata-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>A sine tone: <paramref name="seconds"/> long, amplitude <paramref name="amplitude"/>, as PCM of <paramref name="bits"/> bits.</summary>
    public static void WriteTone(string path, double seconds, int sampleRate = 22050, int channels = 1, int bits = 16,
        double frequency = 220, double amplitude = 0.5)
    {
        int frames = (int)Math.Round(seconds * sampleRate);
        int bytesPerSample = bits / 8;
        using var w = new BinaryWriter(File.Create(path));
        int dataBytes = frames * channels * bytesPerSample;
        w.Write("RIFF"u8); w.Write(36 + dataBytes); w.Write("WAVE"u8);
        w.Write("fmt "u8); w.Write(16); w.Write((short)1); w.Write((short)channels); w.Write(sampleRate);
        w.Write(sampleRate * channels * bytesPerSample); w.Write((short)(channels * bytesPerSample)); w.Write((short)bits);
        w.Write("data"u8); w.Write(dataBytes);
        for (int i = 0; i < frames; i++)
        {
            double v = amplitude * Math.Sin(2 * Math.PI * frequency * i / sampleRate);
            for (int c = 0; c < channels; c++)
            {
                if (bits == 8) w.Write((byte)Math.Round(128 + 127 * v));
                else w.Write((short)Math.Round(32767 * v));
            }
        }
    }

    /// <summary>Writes metadata.csv from raw lines (bytes allowed through Latin-1-free UTF-8 strings).</summary>
    public static void WriteMetadata(string folder, params string[] lines) =>
        File.WriteAllText(Path.Combine(folder, "metadata.csv"), string.Join("\n", lines) + "\n", new UTF8Encoding(false));

    /// <summary>An LJSpeech folder with <paramref name="count"/> good rows t0..t(n-1) of lengths 0.5 s + 0.1 s × i.</summary>
    public static string GoodCorpus(int count)
    {
        var dir = NewFolder();
        Directory.CreateDirectory(Path.Combine(dir, "wavs"));
        var lines = new List<string>();
        for (int i = 0; i < count; i++)
        {
            WriteTone(Path.Combine(dir, "wavs", $"t{i}.wav"), 0.5 + 0.1 * i, frequency: 200 + 20 * i);
            lines.Add($"t{i}|Sentence {i}.|Sentence {i}.");
        }
        WriteMetadata(dir, lines.ToArray());
        return dir;
    }
}
