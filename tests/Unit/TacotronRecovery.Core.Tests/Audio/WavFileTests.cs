using TacotronRecovery.Core.Audio;
using static TacotronRecovery.Core.Tests.Audio.WavBuilder;

namespace TacotronRecovery.Core.Tests.Audio;

public sealed class WavFileTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Read_Pcm16Mono_DecodesExactValues()
    {
        string path = _dir.File("pcm16.wav", Riff(FmtChunk(1, 1, 22050, 16), Chunk("data", Pcm16(0, 16384, -32768, 32767, -1))));

        var clip = WavFile.Read(path, 22050);

        Assert.Equal(new[] { 0f, 0.5f, -1f, 32767f / 32768f, -1f / 32768f }, clip.Samples);
        Assert.Equal(22050, clip.SampleRate);
        Assert.Empty(clip.Warnings);
    }

    [Fact]
    public void Read_Pcm24Mono_DecodesExactValues()
    {
        string path = _dir.File("pcm24.wav", Riff(FmtChunk(1, 1, 22050, 24), Chunk("data", Pcm24(0x400000, -0x800000, 1, -1, 0x7FFFFF))));

        var clip = WavFile.Read(path, 22050);

        Assert.Equal(new[] { 0.5f, -1f, 1f / 8388608f, -1f / 8388608f, 8388607f / 8388608f }, clip.Samples);
        Assert.Equal(24, WavFile.ReadInfo(path).BitsPerSample);
    }

    [Fact]
    public void Read_Pcm32Mono_DecodesExactValues()
    {
        string path = _dir.File("pcm32.wav", Riff(FmtChunk(1, 1, 22050, 32), Chunk("data", Pcm32(0x40000000, int.MinValue, -0x20000000))));

        var clip = WavFile.Read(path, 22050);

        Assert.Equal(new[] { 0.5f, -1f, -0.25f }, clip.Samples);
    }

    [Fact]
    public void Read_Float32Mono_DecodesValuesAndClipsOutOfRangeWithWarning()
    {
        string path = _dir.File("float.wav", Riff(FmtChunk(3, 1, 22050, 32), Chunk("data", Float32(0.25f, -0.75f, 1.5f, float.NaN))));

        var clip = WavFile.Read(path, 22050);

        Assert.Equal(new[] { 0.25f, -0.75f, 1f, 0f }, clip.Samples);
        var warning = Assert.Single(clip.Warnings);
        Assert.Contains("2 float samples", warning);
        Assert.True(WavFile.ReadInfo(path).IsFloat);
    }

    [Theory]
    [InlineData(1, 16)]
    [InlineData(3, 32)]
    public void Read_WaveFormatExtensible_DecodesLikePlainFormat(int tag, int bits)
    {
        byte[] data = tag == 1 ? Pcm16(16384, -16384) : Float32(0.5f, -0.5f);
        string path = _dir.File($"ext-{tag}.wav", Riff(FmtChunk((ushort)tag, 1, 22050, (ushort)bits, extensible: true), Chunk("data", data)));

        var clip = WavFile.Read(path, 22050);

        Assert.Equal(new[] { 0.5f, -0.5f }, clip.Samples);
    }

    [Fact]
    public void Read_Stereo_AveragesChannelsWithWarning()
    {
        string path = _dir.File("stereo.wav", Riff(FmtChunk(1, 2, 22050, 16), Chunk("data", Pcm16(16384, -8192, 0, 32767))));

        var clip = WavFile.Read(path, 22050);

        Assert.Equal(new[] { 0.125f, 32767f / 65536f }, clip.Samples);
        Assert.Equal("stereo down-mixed to mono", Assert.Single(clip.Warnings));
        Assert.Equal(2, WavFile.ReadInfo(path).Channels);
    }

    [Fact]
    public void ReadInfo_Pcm16_ReportsHeaderWithoutDecoding()
    {
        string path = _dir.File("info.wav", SinePcm16(22050, 440, 0.5, 11025));

        var info = WavFile.ReadInfo(path);

        Assert.Equal(new WavInfo(22050, 1, 16, false, 11025, 0.5), info);
    }

    [Fact]
    public void Read_44100Hz_ResamplesToTargetWithWarning()
    {
        string path = _dir.File("cd.wav", SinePcm16(44100, 440, 0.5, 44101));

        var clip = WavFile.Read(path, 22050);

        Assert.Equal(22051, clip.Samples.Length); // ceil(44101 / 2)
        Assert.Equal(22050, clip.SampleRate);
        Assert.Equal("resampled from 44100 Hz to 22050 Hz", Assert.Single(clip.Warnings));
        Assert.InRange(Signals.ZeroCrossingFrequency(clip.Samples, 22050, 1000, 21000), 439.9, 440.1);
    }

    [Fact]
    public void Read_44100HzWithResampleOff_ThrowsWrongSampleRate()
    {
        string path = _dir.File("cd-refused.wav", SinePcm16(44100, 440, 0.5, 100));

        var ex = Assert.Throws<AudioFormatException>(() => WavFile.Read(path, 22050, resample: false));

        Assert.Equal("WrongSampleRate", ex.Code);
        Assert.Equal(path, ex.Path);
        Assert.Contains("cd-refused.wav", ex.Message);
        Assert.Contains("44100 Hz", ex.Message);
    }

    [Fact]
    public void Read_LayoutWithListFactOddChunkAndTrailingChunk_SkipsThemAndDecodes()
    {
        byte[] list = Chunk("LIST", "INFOISFT\u0005\0\0\0Lavf\0"u8.ToArray()); // 17 bytes: odd size, padded
        Assert.Equal(1, (list.Length - 8 - 1) % 2); // the body really is odd-sized
        byte[] bytes = Riff(
            Chunk("JUNK", new byte[28]),
            FmtChunk(1, 1, 22050, 16),
            list,
            Chunk("fact", new byte[] { 3, 0, 0, 0 }),
            Chunk("data", Pcm16(100, -100, 200)),
            Chunk("id3 ", new byte[] { 1, 2, 3 }));
        string path = _dir.File("chunks.wav", bytes);

        var clip = WavFile.Read(path, 22050);

        Assert.Equal(new[] { 100 / 32768f, -100 / 32768f, 200 / 32768f }, clip.Samples);
        Assert.Equal(3, WavFile.ReadInfo(path).Frames);
    }

    public static TheoryData<string, string, string> BadFiles() => new()
    {
        // case, expected code, text the message must contain
        { "eight-bit", "UnsupportedFormat", "8-bit PCM" },
        { "float64", "UnsupportedFormat", "64-bit float" },
        { "adpcm", "UnsupportedFormat", "ADPCM" },
        { "truncated-data", "TruncatedWav", "declares 2000 bytes but the file holds only 1000" },
        { "partial-frame", "TruncatedWav", "ends inside a sample frame" },
        { "truncated-header", "TruncatedWav", "RIFF header" },
        { "no-data-chunk", "TruncatedWav", "before a 'data' chunk" },
        { "not-wav", "NotWav", "not a WAV file" },
        { "tiny-not-wav", "NotWav", "not a WAV file" },
        { "data-before-fmt", "NotWav", "before any 'fmt ' chunk" },
        { "empty-file", "Empty", "empty (0 bytes)" },
        { "empty-data", "Empty", "no samples" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void ReadAndReadInfo_BadFile_ThrowCodeNamingTheFile(string name, string code, string detail)
    {
        byte[] bytes = name switch
        {
            "eight-bit" => Riff(FmtChunk(1, 1, 22050, 8), Chunk("data", new byte[] { 128, 129 })),
            "float64" => Riff(FmtChunk(3, 1, 22050, 64), Chunk("data", new byte[16])),
            "adpcm" => Riff(FmtChunk(2, 1, 22050, 16), Chunk("data", new byte[16])),
            "truncated-data" => Riff(FmtChunk(1, 1, 22050, 16), Chunk("data", new byte[1000], declaredSize: 2000)),
            "partial-frame" => Riff(FmtChunk(1, 1, 22050, 16), Chunk("data", new byte[1001], declaredSize: 1001)),
            "truncated-header" => "RIFF\u0010\0\0"u8.ToArray(),
            "no-data-chunk" => Riff(FmtChunk(1, 1, 22050, 16)),
            "not-wav" => "ID3\u0004 this is an mp3, honestly"u8.ToArray(),
            "tiny-not-wav" => "hello"u8.ToArray(),
            "data-before-fmt" => Riff(Chunk("data", Pcm16(1, 2)), FmtChunk(1, 1, 22050, 16)),
            "empty-file" => [],
            "empty-data" => Riff(FmtChunk(1, 1, 22050, 16), Chunk("data", [])),
            _ => throw new ArgumentException(name),
        };
        string path = _dir.File(name + ".wav", bytes);

        var read = Assert.Throws<AudioFormatException>(() => WavFile.Read(path, 22050));
        var info = Assert.Throws<AudioFormatException>(() => WavFile.ReadInfo(path));

        foreach (var ex in new[] { read, info })
        {
            Assert.Equal(code, ex.Code);
            Assert.Equal(path, ex.Path);
            Assert.StartsWith(path + ": ", ex.Message);
            Assert.Contains(detail, ex.Message);
        }
    }

    [Fact]
    public void Read_MissingFile_ThrowsFileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => WavFile.Read(System.IO.Path.Combine(_dir.Path, "nope.wav"), 22050));
    }

    [Fact]
    public void Write_ThenRead_RoundTripsWithinHalfAStep()
    {
        float[] samples = Signals.Sine(22050, 440, 0.8, 2205);
        string path = System.IO.Path.Combine(_dir.Path, "roundtrip.wav");

        WavFile.Write(path, samples, 22050);
        var clip = WavFile.Read(path, 22050, resample: false);

        Assert.Equal(new WavInfo(22050, 1, 16, false, 2205, 0.1), WavFile.ReadInfo(path));
        Assert.Equal(44 + 2 * 2205, new FileInfo(path).Length);
        Assert.Equal(samples.Length, clip.Samples.Length);
        double maxError = samples.Zip(clip.Samples, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(maxError <= 0.5 / 32768 + 1e-7, $"max error {maxError}");
    }

    [Fact]
    public void Write_OutOfRangeAndNaN_ClipsToFullScaleAndZero()
    {
        string path = System.IO.Path.Combine(_dir.Path, "clipped.wav");

        WavFile.Write(path, new[] { 1.5f, -2f, float.NaN, float.PositiveInfinity, 0.5f }, 16000);
        byte[] bytes = File.ReadAllBytes(path);

        Assert.Equal(Pcm16(32767, -32768, 0, 32767, 16384), bytes[44..]);
        Assert.Equal(16000, WavFile.ReadInfo(path).SampleRate);
    }
}
