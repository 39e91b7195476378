using TacotronRecovery.Core.Audio;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Data;

namespace TacotronRecovery.Core.Tests.Data;

public class MelCacheTests
{
    private readonly string _dir = DataFixture.NewFolder();
    private int _computed;

    private Mel Compute(float value)
    {
        _computed++;
        return new Mel(2, 3, [value, 1, 2, 3, 4, 5]);
    }

    private string Wav(string name = "a.wav", double frequency = 220)
    {
        var path = Path.Combine(_dir, name);
        DataFixture.WriteTone(path, 0.2, frequency: frequency);
        return path;
    }

    [Fact]
    public void GetOrCompute_SameFileTwice_SecondIsHitWithSameValues()
    {
        var cache = new MelCache(Path.Combine(_dir, "cache"), new DataOptions());
        var wav = Wav();
        var first = cache.GetOrCompute(wav, () => Compute(0.5f));
        var second = cache.GetOrCompute(wav, () => Compute(9f));
        Assert.Equal(1, _computed);
        Assert.Equal(first.Data, second.Data);
        Assert.Equal((2, 3), (second.Channels, second.Frames));
        Assert.Equal((1, 1, 0), (cache.Hits, cache.Misses, cache.CorruptEntries));
    }

    [Fact]
    public void GetOrCompute_ChangedWavBytes_Recomputes()
    {
        var cache = new MelCache(Path.Combine(_dir, "cache"), new DataOptions());
        var wav = Wav();
        cache.GetOrCompute(wav, () => Compute(0.5f));
        Wav(frequency: 330); // same path and length, other bytes
        var after = cache.GetOrCompute(wav, () => Compute(7f));
        Assert.Equal(2, _computed);
        Assert.Equal(7f, after.Data[0]);
    }

    [Fact]
    public void GetOrCompute_ChangedParameter_Recomputes()
    {
        var folder = Path.Combine(_dir, "cache");
        var wav = Wav();
        new MelCache(folder, new DataOptions()).GetOrCompute(wav, () => Compute(0.5f));
        var other = new MelCache(folder, new DataOptions { MelFmax = 7600 });
        var mel = other.GetOrCompute(wav, () => Compute(3f));
        Assert.Equal(2, _computed);
        Assert.Equal(3f, mel.Data[0]);
        Assert.Equal(0, other.Hits);
    }

    public static TheoryData<DataOptions> ChangedParameters() =>
    [
        new DataOptions { SampleRate = 16000 },
        new DataOptions { FilterLength = 2048 },
        new DataOptions { HopLength = 200 },
        new DataOptions { WinLength = 800 },
        new DataOptions { NMelChannels = 64 },
        new DataOptions { MelFmin = 50 },
        new DataOptions { MelFmax = 7600 },
    ];

    [Theory]
    [MemberData(nameof(ChangedParameters))]
    public void ParameterHashOf_AnyFeatureParameterChanged_DiffersFromDefault(DataOptions changed)
    {
        Assert.NotEqual(MelCache.ParameterHashOf(new DataOptions()), MelCache.ParameterHashOf(changed));
        Assert.Equal(16, MelCache.ParameterHashOf(changed).Length);
    }

    [Fact]
    public void ParameterHashOf_NonFeatureParameterChanged_Same() =>
        Assert.Equal(MelCache.ParameterHashOf(new DataOptions()), MelCache.ParameterHashOf(new DataOptions { MaxDurationSeconds = 3, TextCleaners = "basic_cleaners" }));

    [Theory]
    [InlineData("garbage")]
    [InlineData("truncate")]
    [InlineData("flip")]
    [InlineData("empty")]
    public void GetOrCompute_CorruptEntry_RecomputedAndRewritten(string damage)
    {
        var cache = new MelCache(Path.Combine(_dir, "cache"), new DataOptions());
        var wav = Wav();
        cache.GetOrCompute(wav, () => Compute(0.5f));
        var entry = cache.PathFor(MelCache.ContentHash(File.ReadAllBytes(wav)));
        var bytes = File.ReadAllBytes(entry);
        switch (damage)
        {
            case "garbage": File.WriteAllText(entry, "not a mel"); break;
            case "truncate": File.WriteAllBytes(entry, bytes[..(bytes.Length - 5)]); break;
            case "flip": bytes[20] ^= 0x40; File.WriteAllBytes(entry, bytes); break;
            default: File.WriteAllBytes(entry, []); break;
        }

        var mel = cache.GetOrCompute(wav, () => Compute(4f));
        Assert.Equal(4f, mel.Data[0]);
        Assert.Equal(1, cache.CorruptEntries);
        Assert.Equal(4f, cache.GetOrCompute(wav, () => Compute(8f)).Data[0]);
        Assert.Equal(2, _computed);
    }

    [Fact]
    public void Write_Entry_NoTemporaryFilesLeft()
    {
        var cache = new MelCache(Path.Combine(_dir, "cache"), new DataOptions());
        Assert.True(cache.Write("abc", new Mel(1, 2, [1f, float.MinValue])));
        Assert.Equal(new[] { "abc.mel" }, Directory.GetFiles(cache.Folder).Select(Path.GetFileName));
        Assert.True(cache.TryRead("abc", out var mel));
        Assert.Equal(new[] { 1f, float.MinValue }, mel.Data);
    }
}
