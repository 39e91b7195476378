using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Data;

namespace TacotronRecovery.Core.Tests.Data;

public class TacotronDatasetTests
{
    [Fact]
    public void Load_LJSpeechWithValidationTxtAndBadRows_SplitsAndReportsSkips()
    {
        var dir = DataFixture.GoodCorpus(6);
        File.AppendAllText(Path.Combine(dir, "metadata.csv"), "missing|Gone.|Gone.\nt9|Bad § text|Bad § text\n");
        DataFixture.WriteTone(Path.Combine(dir, "wavs", "t9.wav"), 1.0);
        File.WriteAllText(Path.Combine(dir, "validation.txt"), "t1\nt4\n");
        var reported = new List<DatasetProblem>();

        var ds = TacotronDataset.Load(new DataOptions { Path = dir }, onProblem: reported.Add, maxParallelism: 2);

        Assert.Equal(new[] { "t0", "t2", "t3", "t5" }, ds.Train.Select(u => u.Id));
        Assert.Equal(new[] { "t1", "t4" }, ds.Validation.Select(u => u.Id));
        Assert.Equal(new[] { (DatasetProblemCode.MissingFile, 7), (DatasetProblemCode.UnknownSymbols, 8) }, reported.Select(p => (p.Code, p.Line)));
        Assert.Equal(2, ds.SkippedRows);
        var t2 = ds.Train[1];
        Assert.Equal((3, "Sentence 2.", Path.Combine(dir, "wavs", "t2.wav")), (t2.Line, t2.Text, t2.Path));
        Assert.Equal(new[] { 56, 42, 51, 57, 42, 51, 40, 42, 11, 57, 60, 52, 7 }, t2.TokenIds); // "sentence two."
        int samples = (int)Math.Round(0.7 * 22050);
        Assert.Equal((80, 1 + samples / 256), (t2.Mel.Channels, t2.Mel.Frames));
        Assert.Equal(6, ds.Cache.Misses);
        Assert.True(File.Exists(Path.Combine(dir, ".melcache", ds.Cache.ParameterHash, MelCache.ContentHash(File.ReadAllBytes(t2.Path)) + ".mel")));
    }

    [Fact]
    public void Load_SecondTime_AllMelsFromCacheAndEqual()
    {
        var dir = DataFixture.GoodCorpus(4);
        var options = new DataOptions { Path = dir, ValidationFraction = 0 };
        var first = TacotronDataset.Load(options, maxParallelism: 2);
        var second = TacotronDataset.Load(options, maxParallelism: 2);
        Assert.Equal((4, 0), (second.Cache.Hits, second.Cache.Misses));
        Assert.Equal(first.Train.Select(u => u.Mel.Data.Sum()), second.Train.Select(u => u.Mel.Data.Sum()));
    }

    [Fact]
    public void Load_TrainAndValidationFilelists_RelativeToBaseDirectory()
    {
        var dir = DataFixture.GoodCorpus(3);
        File.WriteAllText(Path.Combine(dir, "train.txt"), "wavs/t0.wav|Zero.\nwavs/t1.wav|One.\n");
        File.WriteAllText(Path.Combine(dir, "val.txt"), "wavs/t2.wav|Two.\n");
        var cache = Path.Combine(DataFixture.NewFolder(), "melcache");
        var ds = TacotronDataset.Load(new DataOptions { TrainFilelist = "train.txt", ValidationFilelist = "val.txt", MelCachePath = cache }, baseDirectory: dir);
        Assert.Equal(new[] { "t0", "t1" }, ds.Train.Select(u => u.Id));
        Assert.Equal("t2", Assert.Single(ds.Validation).Id);
        Assert.True(Directory.Exists(Path.Combine(cache, ds.Cache.ParameterHash)));
    }

    [Fact]
    public void Load_NoPathNorFilelist_ThrowsNamingKeys()
    {
        var e = Assert.Throws<ArgumentException>(() => TacotronDataset.Load(new DataOptions()));
        Assert.Contains("'path'", e.Message);
        Assert.Contains("'train_filelist'", e.Message);
    }

    [Fact]
    public void Load_MissingFolder_DatasetNotFound() =>
        Assert.Throws<DatasetNotFoundException>(() => TacotronDataset.Load(new DataOptions { Path = Path.Combine(DataFixture.NewFolder(), "none") }));

    [Fact]
    public void Load_EmptyBaseDirectory_TreatedAsCurrentFolder()
    {
        var dir = DataFixture.GoodCorpus(2);
        var ds = TacotronDataset.Load(new DataOptions { Path = dir, ValidationFraction = 0 }, baseDirectory: "");
        Assert.Equal(2, ds.Train.Count);
    }
}
