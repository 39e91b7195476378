using System.Diagnostics;
using TacotronRecovery.Core.Audio;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Data;
using TacotronRecovery.Core.Tests.Data;

namespace TacotronRecovery.Core.Tests.Robustness;

/// <summary>
/// Datasets from the worst day (docs/robustness.md): files whose declared or real size is huge (sparse files: nothing
/// large is written to disk or committed), over-long lines, symlink loops. Each is one problem naming the file and line,
/// fast, without reading the huge file into memory; the other rows are still read.
/// </summary>
public sealed class HostileDatasetTests : IDisposable
{
    private readonly string _dir = DataFixture.NewFolder();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static T Fast<T>(Func<T> action)
    {
        var clock = Stopwatch.StartNew();
        var result = action();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
        return result;
    }

    private static void Sparse(string path, long length)
    {
        using var fs = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write);
        fs.SetLength(length);
    }

    [Fact]
    public void HugeSparseMetadata_IsOneProblemNamingTheFile_NotRead()
    {
        var metadata = Path.Combine(_dir, "metadata.csv");
        Sparse(metadata, DatasetReader.MaxFileBytes + 1);

        var listing = Fast(() => DatasetReader.Read(_dir));

        var p = Assert.Single(listing.Problems);
        Assert.Equal(DatasetProblemCode.MalformedLine, p.Code);
        Assert.Equal(metadata, p.Path);
        Assert.Contains("metadata.csv", p.Message);
        Assert.Contains("MiB", p.Message);
        Assert.Empty(listing.Entries);
        Assert.Equal(DatasetReader.MaxFileBytes + 1, new FileInfo(metadata).Length); // untouched
    }

    [Fact]
    public void OverlongLine_IsAProblemWithItsNumber_TheNextRowIsRead()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "wavs"));
        File.WriteAllText(Path.Combine(_dir, "metadata.csv"), "x|" + new string('a', DatasetReader.MaxLineBytes + 10) + "\ngood|Hello.|Hello.\n");

        var listing = Fast(() => DatasetReader.Read(_dir));

        var p = Assert.Single(listing.Problems);
        Assert.Equal(1, p.Line);
        Assert.Contains("metadata.csv line 1", p.Message);
        Assert.Equal("good", Assert.Single(listing.Entries).Id);
    }

    [Fact]
    public void WavDeclaringGigabytesItDoesNotHave_IsTruncated()
    {
        var wav = Path.Combine(_dir, "liar.wav");
        DataFixture.WriteTone(wav, 0.5);
        PatchSizes(wav, 3_000_000_000u);

        var e = Fast(() => Assert.Throws<AudioFormatException>(() => WavFile.ReadInfo(wav)));
        Assert.Equal(AudioFormatException.TruncatedWav, e.Code);
        Assert.Contains("liar.wav", e.Message);
    }

    [Fact]
    public void HugeSparseWav_IsTooLongOnItsHeader_NeverReadIntoMemory()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "wavs"));
        var wav = Path.Combine(_dir, "wavs", "huge.wav");
        DataFixture.WriteTone(wav, 0.5);
        PatchSizes(wav, 3_000_000_000u);
        Sparse(wav, 44 + 3_000_000_000L); // 68 000 s of silence, 0 bytes on disk
        File.WriteAllText(Path.Combine(_dir, "metadata.csv"), "huge|A sentence.|A sentence.\n");

        var before = GC.GetTotalAllocatedBytes();
        var check = Fast(() => new DatasetValidator(new DataOptions()).Check(DatasetReader.Read(_dir).Entries[0]));

        Assert.Contains(check.Problems, p => p.Code == DatasetProblemCode.TooLong && p.Message.Contains("line 1 (huge)"));
        Assert.False(check.Usable);
        Assert.True(GC.GetTotalAllocatedBytes() - before < 64L * 1024 * 1024, "the file was read into memory");
        var e = Assert.Throws<AudioFormatException>(() => WavFile.Read(wav, 22050));
        Assert.Contains("huge.wav", e.Message);
    }

    [Fact]
    public void SymlinkLoops_AreUnreadableFilesNamingThePath_NoHang()
    {
        if (OperatingSystem.IsWindows()) return; // symlinks need privileges there
        var wavs = Directory.CreateDirectory(Path.Combine(_dir, "wavs")).FullName;
        File.CreateSymbolicLink(Path.Combine(wavs, "self.wav"), Path.Combine(wavs, "self.wav"));
        File.CreateSymbolicLink(Path.Combine(wavs, "a.wav"), Path.Combine(wavs, "b.wav"));
        File.CreateSymbolicLink(Path.Combine(wavs, "b.wav"), Path.Combine(wavs, "a.wav"));
        Directory.CreateSymbolicLink(Path.Combine(wavs, "up"), _dir); // a folder loop: wavs/up/wavs/up/…
        DataFixture.WriteTone(Path.Combine(wavs, "ok.wav"), 1.0);
        File.WriteAllText(Path.Combine(_dir, "metadata.csv"), "self|One.|One.\na|Two.|Two.\nup/wavs/up/wavs/ok|Three.|Three.\nok|Four.|Four.\n");

        var checks = Fast(() => new DatasetValidator(new DataOptions()).CheckAll(DatasetReader.Read(_dir)).ToList());

        Assert.Equal(4, checks.Count);
        // The link exists but cannot be opened: "cannot read …/self.wav: Too many levels of symbolic links".
        Assert.Equal(DatasetProblemCode.NotWav, Assert.Single(checks[0].Problems).Code);
        Assert.Contains("self.wav", checks[0].Problems[0].Message);
        Assert.Contains("symbolic links", checks[0].Problems[0].Message);
        Assert.Equal(DatasetProblemCode.NotWav, Assert.Single(checks[1].Problems).Code);
        Assert.Contains("a.wav", checks[1].Problems[0].Message);
        Assert.True(checks[2].Usable); // a path through a folder loop that ends in a real file is just that file
        Assert.True(checks[3].Usable);
    }

    private static void PatchSizes(string wav, uint dataBytes)
    {
        using var fs = new FileStream(wav, FileMode.Open, FileAccess.ReadWrite);
        using var w = new BinaryWriter(fs);
        fs.Position = 4; w.Write(36 + dataBytes);
        fs.Position = 40; w.Write(dataBytes);
    }
}
