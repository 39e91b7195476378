using System.Buffers.Binary;

namespace TacotronRecovery.Core.Audio;

/// <summary>
/// Reads and writes RIFF/WAVE files. Reads 16/24/32-bit integer PCM and 32-bit IEEE float (plain or
/// WAVE_FORMAT_EXTENSIBLE), any chunk order (<c>LIST</c>, <c>fact</c>, ... are skipped, odd chunk sizes padded),
/// any number of channels (down-mixed to mono by averaging, with a warning), any sample rate (resampled with a
/// Kaiser-windowed sinc, with a warning, or refused). Refuses 8-bit PCM and other encodings
/// (<see cref="AudioFormatException.UnsupportedFormat"/>). Writes 16-bit PCM mono.
/// </summary>
public static class WavFile
{
    private const ushort FormatPcm = 1;
    private const ushort FormatFloat = 3;
    private const ushort FormatExtensible = 0xFFFE;

    /// <summary>
    /// Reads and checks the header: the same checks as <see cref="Read"/> except the sample rate, without
    /// decoding samples. A file that passes can be decoded.
    /// </summary>
    /// <param name="path">The WAV file.</param>
    /// <returns>Format and length.</returns>
    /// <exception cref="AudioFormatException">Not a WAV, truncated, unsupported encoding or no samples; the
    /// message names the file.</exception>
    /// <exception cref="IOException">The file cannot be opened (missing, no permission).</exception>
    public static WavInfo ReadInfo(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.SequentialScan);
        var layout = ParseHeader(path, stream);
        return layout.Info;
    }

    /// <summary>Decodes a WAV file to mono float samples at <paramref name="targetSampleRate"/>.</summary>
    /// <param name="path">The WAV file.</param>
    /// <param name="targetSampleRate">The sample rate wanted (e.g. 22050).</param>
    /// <param name="resample">Another rate is resampled (true, with a warning) or refused with
    /// <see cref="AudioFormatException.WrongSampleRate"/> (false).</param>
    /// <returns>Mono samples in [-1, 1] and what was changed while reading.</returns>
    /// <exception cref="AudioFormatException">The codes of <see cref="ReadInfo"/> plus WrongSampleRate.</exception>
    /// <exception cref="IOException">The file cannot be opened (missing, no permission).</exception>
    public static AudioClip Read(string path, int targetSampleRate, bool resample = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetSampleRate);
        long size = new FileInfo(path).Length;
        if (size > Array.MaxLength)
            throw new AudioFormatException(path, AudioFormatException.UnsupportedFormat, $"{size:N0} bytes: WAV files above 2 GB are not supported");
        byte[] bytes = File.ReadAllBytes(path);
        using var stream = new MemoryStream(bytes, writable: false);
        var layout = ParseHeader(path, stream);
        var info = layout.Info;
        var warnings = new List<string>();
        if (info.SampleRate != targetSampleRate && !resample)
        {
            throw new AudioFormatException(path, AudioFormatException.WrongSampleRate,
                $"sample rate is {info.SampleRate} Hz, {targetSampleRate} Hz required (resampling is off)");
        }

        float[] mono = Decode(bytes.AsSpan((int)layout.DataOffset, (int)(info.Frames * layout.BlockAlign)), info, layout.BlockAlign,
            out int outOfRange);
        if (info.Channels > 1)
        {
            warnings.Add(info.Channels == 2
                ? "stereo down-mixed to mono"
                : $"{info.Channels} channels down-mixed to mono");
        }
        if (outOfRange > 0)
        {
            warnings.Add($"{outOfRange} float samples outside [-1, 1] or not finite were clipped");
        }
        if (info.SampleRate != targetSampleRate)
        {
            mono = Resampler.Resample(mono, info.SampleRate, targetSampleRate);
            warnings.Add($"resampled from {info.SampleRate} Hz to {targetSampleRate} Hz");
            for (int i = 0; i < mono.Length; i++)
            {
                mono[i] = Math.Clamp(mono[i], -1f, 1f);
            }
        }
        return new AudioClip(mono, targetSampleRate, warnings);
    }

    /// <summary>
    /// Writes mono samples as 16-bit PCM: each sample scaled by 32768 (the inverse of <see cref="Read"/>), rounded and
    /// clipped to [-32768, 32767], so a write/read round trip is exact to half a step; NaN is written as 0.
    /// The folder must exist; an existing file is replaced.
    /// </summary>
    /// <param name="path">Destination file.</param>
    /// <param name="samples">Mono samples.</param>
    /// <param name="sampleRate">Sample rate to record in the header.</param>
    public static void Write(string path, ReadOnlySpan<float> samples, int sampleRate)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleRate);
        long dataBytes = (long)samples.Length * 2;
        if (dataBytes > uint.MaxValue - 36)
        {
            throw new ArgumentException($"{samples.Length} samples do not fit in a WAV file.", nameof(samples));
        }
        var buffer = new byte[44 + dataBytes];
        Span<byte> h = buffer;
        "RIFF"u8.CopyTo(h);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], (uint)(36 + dataBytes));
        "WAVE"u8.CopyTo(h[8..]);
        "fmt "u8.CopyTo(h[12..]);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], 16);
        BinaryPrimitives.WriteUInt16LittleEndian(h[20..], FormatPcm);
        BinaryPrimitives.WriteUInt16LittleEndian(h[22..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(h[24..], (uint)sampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(h[28..], (uint)sampleRate * 2);
        BinaryPrimitives.WriteUInt16LittleEndian(h[32..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(h[34..], 16);
        "data"u8.CopyTo(h[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(h[40..], (uint)dataBytes);
        for (int i = 0; i < samples.Length; i++)
        {
            float s = samples[i];
            double v = float.IsNaN(s) ? 0 : Math.Clamp(Math.Round(s * 32768.0), -32768, 32767);
            BinaryPrimitives.WriteInt16LittleEndian(h[(44 + 2 * i)..], (short)v);
        }
        File.WriteAllBytes(path, buffer);
    }

    private readonly record struct Layout(WavInfo Info, long DataOffset, int BlockAlign);

    private static Layout ParseHeader(string path, Stream stream)
    {
        long length = stream.Length;
        if (length == 0)
        {
            throw new AudioFormatException(path, AudioFormatException.Empty, "the file is empty (0 bytes)");
        }
        Span<byte> head = stackalloc byte[12];
        int got = ReadFully(stream, head);
        if (got < 12)
        {
            if (got >= 4 && head[..4].SequenceEqual("RIFF"u8))
            {
                throw new AudioFormatException(path, AudioFormatException.TruncatedWav,
                    $"the file ends inside the RIFF header ({length} bytes)");
            }
            throw new AudioFormatException(path, AudioFormatException.NotWav, $"not a WAV file (only {length} bytes, no RIFF/WAVE header)");
        }
        if (head[..4].SequenceEqual("RF64"u8))
        {
            throw new AudioFormatException(path, AudioFormatException.UnsupportedFormat, "RF64 (64-bit WAV) is not supported");
        }
        if (!head[..4].SequenceEqual("RIFF"u8) || !head.Slice(8, 4).SequenceEqual("WAVE"u8))
        {
            throw new AudioFormatException(path, AudioFormatException.NotWav,
                $"not a WAV file (starts with '{Printable(head[..4])}', expected 'RIFF....WAVE')");
        }

        ushort tag = 0, channels = 0, blockAlign = 0, bits = 0;
        uint rate = 0;
        bool haveFmt = false;
        Span<byte> chunkHeader = stackalloc byte[8];
        Span<byte> fmt = stackalloc byte[40];
        long position = 12;
        while (true)
        {
            if (position + 8 > length)
            {
                string missing = haveFmt ? "data" : "fmt ";
                throw new AudioFormatException(path, AudioFormatException.TruncatedWav,
                    $"the file ends at byte {length} before a '{missing}' chunk");
            }
            stream.Position = position;
            ReadFully(stream, chunkHeader);
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(chunkHeader[4..]);
            long body = position + 8;
            string id = Printable(chunkHeader[..4]);
            if (id == "fmt ")
            {
                if (size < 16)
                {
                    throw new AudioFormatException(path, AudioFormatException.NotWav, $"'fmt ' chunk is {size} bytes, at least 16 expected");
                }
                if (body + Math.Min(size, 40u) > length)
                {
                    throw new AudioFormatException(path, AudioFormatException.TruncatedWav, $"the file ends inside the 'fmt ' chunk ({length} bytes)");
                }
                int n = ReadFully(stream, fmt[..(int)Math.Min(size, 40u)]);
                tag = BinaryPrimitives.ReadUInt16LittleEndian(fmt);
                channels = BinaryPrimitives.ReadUInt16LittleEndian(fmt[2..]);
                rate = BinaryPrimitives.ReadUInt32LittleEndian(fmt[4..]);
                blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(fmt[12..]);
                bits = BinaryPrimitives.ReadUInt16LittleEndian(fmt[14..]);
                if (tag == FormatExtensible)
                {
                    if (n < 40)
                    {
                        throw new AudioFormatException(path, AudioFormatException.NotWav,
                            $"WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk is {size} bytes, 40 expected");
                    }
                    tag = BinaryPrimitives.ReadUInt16LittleEndian(fmt[24..]); // first two bytes of the sub-format GUID
                }
                haveFmt = true;
            }
            else if (id == "data")
            {
                if (!haveFmt)
                {
                    throw new AudioFormatException(path, AudioFormatException.NotWav, "'data' chunk comes before any 'fmt ' chunk");
                }
                var info = CheckFormat(path, tag, channels, rate, blockAlign, bits, size);
                long available = length - body;
                if (size > available)
                {
                    throw new AudioFormatException(path, AudioFormatException.TruncatedWav,
                        $"'data' chunk declares {size} bytes but the file holds only {available}");
                }
                if (size % blockAlign != 0)
                {
                    throw new AudioFormatException(path, AudioFormatException.TruncatedWav,
                        $"'data' chunk of {size} bytes ends inside a sample frame ({blockAlign} bytes per frame)");
                }
                if (size == 0)
                {
                    throw new AudioFormatException(path, AudioFormatException.Empty, "the 'data' chunk holds no samples");
                }
                return new Layout(info, body, blockAlign);
            }
            position = body + size + (size & 1); // chunks are padded to an even size
        }
    }

    private static WavInfo CheckFormat(string path, ushort tag, ushort channels, uint rate, ushort blockAlign, ushort bits, uint dataSize)
    {
        if (channels == 0 || rate == 0 || rate > int.MaxValue)
        {
            throw new AudioFormatException(path, AudioFormatException.NotWav, $"'fmt ' chunk declares {channels} channels at {rate} Hz");
        }
        bool isFloat;
        if (tag == FormatPcm)
        {
            if (bits == 8)
            {
                throw new AudioFormatException(path, AudioFormatException.UnsupportedFormat,
                    "8-bit PCM is not supported (use 16, 24 or 32-bit PCM or 32-bit float)");
            }
            if (bits != 16 && bits != 24 && bits != 32)
            {
                throw new AudioFormatException(path, AudioFormatException.UnsupportedFormat,
                    $"{bits}-bit PCM is not supported (use 16, 24 or 32-bit PCM or 32-bit float)");
            }
            isFloat = false;
        }
        else if (tag == FormatFloat)
        {
            if (bits != 32)
            {
                throw new AudioFormatException(path, AudioFormatException.UnsupportedFormat,
                    $"{bits}-bit float is not supported (use 32-bit float)");
            }
            isFloat = true;
        }
        else
        {
            throw new AudioFormatException(path, AudioFormatException.UnsupportedFormat,
                $"encoding {FormatName(tag)} is not supported (use 16, 24 or 32-bit PCM or 32-bit float)");
        }
        if (blockAlign != channels * (bits / 8))
        {
            throw new AudioFormatException(path, AudioFormatException.UnsupportedFormat,
                $"block align {blockAlign} does not match {channels} channels of {bits} bits");
        }
        long frames = dataSize / blockAlign;
        return new WavInfo((int)rate, channels, bits, isFloat, frames, (double)frames / rate);
    }

    private static float[] Decode(ReadOnlySpan<byte> data, WavInfo info, int blockAlign, out int outOfRange)
    {
        int frames = checked((int)info.Frames);
        int channels = info.Channels;
        int width = info.BitsPerSample / 8;
        var mono = new float[frames];
        float scale = 1f / channels;
        outOfRange = 0;
        for (int f = 0; f < frames; f++)
        {
            ReadOnlySpan<byte> frame = data.Slice(f * blockAlign, blockAlign);
            float sum = 0;
            for (int c = 0; c < channels; c++)
            {
                ReadOnlySpan<byte> s = frame.Slice(c * width, width);
                float v;
                if (info.IsFloat)
                {
                    v = BinaryPrimitives.ReadSingleLittleEndian(s);
                    if (!(v >= -1f && v <= 1f))
                    {
                        outOfRange++;
                        v = float.IsNaN(v) ? 0f : Math.Clamp(v, -1f, 1f);
                    }
                }
                else
                {
                    v = width switch
                    {
                        2 => BinaryPrimitives.ReadInt16LittleEndian(s) / 32768f,
                        3 => ((s[0] | (s[1] << 8) | (s[2] << 16)) << 8 >> 8) / 8388608f,
                        _ => (float)(BinaryPrimitives.ReadInt32LittleEndian(s) / 2147483648.0),
                    };
                }
                sum += v;
            }
            mono[f] = channels == 1 ? sum : sum * scale;
        }
        return mono;
    }

    private static int ReadFully(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0)
            {
                break;
            }
            total += n;
        }
        return total;
    }

    private static string Printable(ReadOnlySpan<byte> id)
    {
        Span<char> chars = stackalloc char[id.Length];
        for (int i = 0; i < id.Length; i++)
        {
            chars[i] = id[i] is >= 0x20 and < 0x7F ? (char)id[i] : '?';
        }
        return new string(chars);
    }

    private static string FormatName(ushort tag) => tag switch
    {
        2 => "MS ADPCM (2)",
        6 => "A-law (6)",
        7 => "µ-law (7)",
        0x11 => "IMA ADPCM (0x11)",
        0x55 => "MPEG Layer 3 (0x55)",
        _ => $"format tag 0x{tag:X4}",
    };
}
