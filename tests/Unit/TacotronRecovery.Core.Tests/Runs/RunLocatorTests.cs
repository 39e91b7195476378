using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Tests.Runs;

public class RunLocatorTests
{
    private static TempDir MakeRoot(params string[] runs)
    {
        var dir = new TempDir();
        foreach (var r in runs)
        {
            Directory.CreateDirectory(Path.Combine(dir.Path, "runs", r));
            File.WriteAllText(Path.Combine(dir.Path, "runs", r, "run.json"), "{}");
        }
        return dir;
    }

    [Fact]
    public void Resolve_Name_IsFolderUnderRunsRoot()
    {
        using var dir = MakeRoot("voice", "lj");
        var run = RunLocator.Resolve("voice", Path.Combine(dir.Path, "runs"));
        Assert.Equal(Path.Combine(dir.Path, "runs", "voice"), run.Path);
        Assert.Equal("voice", run.Name);
    }

    [Fact]
    public void Resolve_NameWithoutRoot_UsesRunsUnderBaseDirectory()
    {
        using var dir = MakeRoot("voice");
        var run = RunLocator.Resolve("voice", null, dir.Path);
        Assert.Equal(Path.Combine(dir.Path, "runs", "voice"), run.Path);
    }

    [Fact]
    public void Resolve_RelativePath_UsedAsIs()
    {
        using var dir = MakeRoot("voice");
        var run = RunLocator.Resolve("./runs/voice", "/nonexistent", dir.Path);
        Assert.Equal(Path.Combine(dir.Path, "runs", "voice"), run.Path);
    }

    [Fact]
    public void Resolve_UnknownName_ListsNearbyRuns()
    {
        using var dir = MakeRoot("voice", "voice-v2", "lj-speech");
        var ex = Assert.Throws<RunDataException>(() => RunLocator.Resolve("voic", Path.Combine(dir.Path, "runs")));
        Assert.Equal("RunNotFound", ex.ErrorId);
        Assert.Contains("Did you mean: voice, voice-v2?", ex.Message);
    }

    [Fact]
    public void Resolve_UnknownNameNothingNearby_ListsAllRuns()
    {
        using var dir = MakeRoot("alpha", "beta");
        var ex = Assert.Throws<RunDataException>(() => RunLocator.Resolve("zzzzzzzz", Path.Combine(dir.Path, "runs")));
        Assert.Contains(": alpha, beta.", ex.Message);
    }

    [Fact]
    public void Resolve_MissingPath_ThrowsRunNotFoundNamingIt()
    {
        using var dir = new TempDir();
        var ex = Assert.Throws<RunDataException>(() => RunLocator.Resolve("./nope", null, dir.Path));
        Assert.Equal("RunNotFound", ex.ErrorId);
        Assert.Contains(Path.Combine(dir.Path, "nope"), ex.Message);
    }

    [Fact]
    public void ListRuns_OnlyFoldersWithRunFiles_SortedByName()
    {
        using var dir = MakeRoot("b", "a");
        Directory.CreateDirectory(Path.Combine(dir.Path, "runs", "not-a-run"));
        Assert.Equal(new[] { "a", "b" }, RunLocator.ListRuns(Path.Combine(dir.Path, "runs")).Select(r => r.Name));
    }
}
