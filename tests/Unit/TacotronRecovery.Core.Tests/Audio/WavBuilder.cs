using System.Buffers.Binary;
using System.Text;

namespace TacotronRecovery.Core.Tests.Audio;

/// <summary>Builds WAV files byte by byte, including malformed ones, for the reader tests.</summary>
internal static class WavBuilder
{
    public static byte[] FmtChunk(ushort tag, ushort channels, int rate, ushort bits, bool extensible = false)
    {
        int blockAlign = channels * bits / 8;
        var body = new byte[extensible ? 40 : 16];
        BinaryPrimitives.WriteUInt16LittleEndian(body, extensible ? (ushort)0xFFFE : tag);
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(2), channels);
        BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(4), rate);
        BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(8), rate * blockAlign);
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(12), (ushort)blockAlign);
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(14), bits);
        if (extensible)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(16), 22);          // cbSize
            BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(18), bits);        // valid bits
            BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(20), channels == 1 ? 4u : 3u); // channel mask
            BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(24), tag);         // sub-format GUID starts with the tag
            new byte[] { 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71 }.CopyTo(body, 26);
        }
        return Chunk("fmt ", body);
    }

    public static byte[] Chunk(string id, byte[] body, uint? declaredSize = null)
    {
        using var ms = new MemoryStream();
        ms.Write(Encoding.ASCII.GetBytes(id));
        var size = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(size, declaredSize ?? (uint)body.Length);
        ms.Write(size);
        ms.Write(body);
        if (declaredSize is null && body.Length % 2 == 1)
        {
            ms.WriteByte(0); // pad byte
        }
        return ms.ToArray();
    }

    public static byte[] Riff(params byte[][] chunks)
    {
        int length = 4 + chunks.Sum(c => c.Length);
        using var ms = new MemoryStream();
        ms.Write("RIFF"u8);
        var size = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(size, length);
        ms.Write(size);
        ms.Write("WAVE"u8);
        foreach (var c in chunks)
        {
            ms.Write(c);
        }
        return ms.ToArray();
    }

    public static byte[] Pcm16(params short[] samples)
    {
        var b = new byte[samples.Length * 2];
        for (int i = 0; i < samples.Length; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(2 * i), samples[i]);
        }
        return b;
    }

    public static byte[] Pcm24(params int[] samples)
    {
        var b = new byte[samples.Length * 3];
        for (int i = 0; i < samples.Length; i++)
        {
            b[3 * i] = (byte)samples[i];
            b[3 * i + 1] = (byte)(samples[i] >> 8);
            b[3 * i + 2] = (byte)(samples[i] >> 16);
        }
        return b;
    }

    public static byte[] Pcm32(params int[] samples)
    {
        var b = new byte[samples.Length * 4];
        for (int i = 0; i < samples.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(4 * i), samples[i]);
        }
        return b;
    }

    public static byte[] Float32(params float[] samples)
    {
        var b = new byte[samples.Length * 4];
        for (int i = 0; i < samples.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(4 * i), samples[i]);
        }
        return b;
    }

    /// <summary>A mono 16-bit WAV of a sine.</summary>
    public static byte[] SinePcm16(int rate, double hz, double amplitude, int count, ushort channels = 1)
    {
        var s = new short[count * channels];
        for (int i = 0; i < count; i++)
        {
            short v = (short)Math.Round(amplitude * 32767 * Math.Sin(2 * Math.PI * hz * i / rate));
            for (int c = 0; c < channels; c++)
            {
                s[i * channels + c] = v;
            }
        }
        return Riff(FmtChunk(1, channels, rate, 16), Chunk("data", Pcm16(s)));
    }
}

/// <summary>A temporary folder deleted after the test.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tacotron-audio-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name, byte[] bytes)
    {
        string p = System.IO.Path.Combine(Path, name);
        System.IO.File.WriteAllBytes(p, bytes);
        return p;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Signal helpers shared by the audio tests.</summary>
internal static class Signals
{
    public static float[] Sine(int rate, double hz, double amplitude, int count)
    {
        var s = new float[count];
        for (int i = 0; i < count; i++)
        {
            s[i] = (float)(amplitude * Math.Sin(2 * Math.PI * hz * i / rate));
        }
        return s;
    }

    /// <summary>Frequency from upward zero crossings (linearly interpolated) between two sample indices.</summary>
    public static double ZeroCrossingFrequency(ReadOnlySpan<float> s, int rate, int from, int to)
    {
        double first = double.NaN, last = double.NaN;
        int count = 0;
        for (int i = from; i < to - 1; i++)
        {
            if (s[i] < 0 && s[i + 1] >= 0)
            {
                double t = i + s[i] / (double)(s[i] - s[i + 1]);
                if (count == 0)
                {
                    first = t;
                }
                last = t;
                count++;
            }
        }
        return (count - 1) / ((last - first) / rate);
    }

    public static double RmsDb(ReadOnlySpan<float> s, int from, int to) => TacotronRecovery.Core.Audio.AudioAnalysis.RmsDb(s[from..to]);
}
