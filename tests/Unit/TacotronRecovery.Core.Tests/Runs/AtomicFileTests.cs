using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Tests.Runs;

public class AtomicFileTests
{
    [Fact]
    public void Write_WriterThrows_OldFileIntactAndNoTempLeft()
    {
        using var dir = new TempDir();
        var f = dir.File("run.json");
        File.WriteAllText(f, "old content");

        var ex = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(f, s =>
        {
            s.Write("new half"u8);
            throw new InvalidOperationException("boom");
        }));

        Assert.Equal("boom", ex.Message);
        Assert.Equal("old content", File.ReadAllText(f));
        Assert.Equal(new[] { f }, Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void WriteAllText_ExistingFile_ReplacedCompletely()
    {
        using var dir = new TempDir();
        var f = dir.File("sub/state.json");
        AtomicFile.WriteAllText(f, "a much longer first content");
        AtomicFile.WriteAllText(f, "short");
        Assert.Equal("short", File.ReadAllText(f));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(f)!));
    }

    [Fact]
    public void WriteAllBytes_NewFile_Created()
    {
        using var dir = new TempDir();
        var f = dir.File("b.bin");
        AtomicFile.WriteAllBytes(f, new byte[] { 1, 2, 3 }, fsync: false);
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(f));
    }
}
