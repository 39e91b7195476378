using TacotronRecovery.Core.Data;

namespace TacotronRecovery.Core.Tests.Data;

public class DatasetSplitTests
{
    [Fact]
    public void HashSelects_TenThousandIds_ShareNearFractionAndStable()
    {
        var ids = Enumerable.Range(0, 10000).Select(i => $"LJ{i / 100:000}-{i % 100:0000}").ToList();
        var first = ids.Where(id => DatasetSplit.HashSelects(id, 0.05)).ToList();
        var second = ids.Where(id => DatasetSplit.HashSelects(id, 0.05)).ToList();
        Assert.Equal(first, second);
        Assert.InRange(first.Count, 430, 570);
        // A larger fraction only adds ids: growing the validation share never moves an id back to training.
        Assert.All(first, id => Assert.True(DatasetSplit.HashSelects(id, 0.1)));
    }

    [Fact]
    public void HashSelects_PinnedIds_SameOnEveryMachine()
    {
        // SHA-256 based: these values may never change, or existing runs would see a different validation set.
        Assert.Equal(PinnedExpected, PinnedIds.Select(id => DatasetSplit.HashSelects(id, 0.5)).ToArray());
    }

    internal static readonly string[] PinnedIds = ["LJ001-0001", "LJ001-0002", "LJ001-0003", "LJ001-0004", "LJ001-0005", "LJ001-0006"];
    internal static readonly bool[] PinnedExpected = [true, false, true, false, false, true]; // checked with Python hashlib

    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(1.0, 200)]
    public void HashSelects_EdgeFractions_NoneOrAll(double fraction, int expected) =>
        Assert.Equal(expected, Enumerable.Range(0, 200).Count(i => DatasetSplit.HashSelects("id" + i, fraction)));

    [Fact]
    public void Constructor_FractionOutOfRange_Throws() => Assert.Throws<ArgumentOutOfRangeException>(() => new DatasetSplit(null, 1.5));

    [Fact]
    public void For_ValidationTxtNextToMetadata_UsesExactlyThoseIds()
    {
        var dir = DataFixture.NewFolder();
        DataFixture.WriteMetadata(dir, "a|x", "b|x", "c|x");
        File.WriteAllText(Path.Combine(dir, "validation.txt"), "# held out\nb\n\nwavs/c.wav|text\n");
        var split = DatasetSplit.For(DatasetReader.ReadLJSpeech(dir), 0.05);
        Assert.Equal(new[] { false, true, true }, new[] { "a", "b", "c" }.Select(split.IsValidation));
        Assert.Equal("validation.txt (2 ids)", split.Method);
    }

    [Fact]
    public void For_Filelist_IgnoresValidationTxtAndUsesHash()
    {
        var dir = DataFixture.NewFolder();
        File.WriteAllText(Path.Combine(dir, "validation.txt"), "a\n");
        File.WriteAllText(Path.Combine(dir, "train.txt"), "a.wav|x\n");
        var split = DatasetSplit.For(DatasetReader.Read(Path.Combine(dir, "train.txt")), 0.05);
        Assert.Equal("hash 5%", split.Method);
        Assert.Equal(DatasetSplit.HashSelects("a", 0.05), split.IsValidation("a"));
    }
}
