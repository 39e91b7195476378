using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Tests.Runs;

public class TrainingLogTests
{
    [Fact]
    public void Write_Lines_TimestampedOneLinePerMessageAndFlushed()
    {
        using var dir = new TempDir();
        var f = dir.File("training.log");
        var clock = new FixedTime(new DateTimeOffset(2026, 5, 6, 7, 8, 9, 123, TimeSpan.Zero));
        using var log = new TrainingLog(f, clock);

        log.Info("step 100 loss 0.5");
        clock.Now = clock.Now.AddSeconds(1);
        log.Warning("two\nlines");

        // Read while the log is still open: each line is already on disk.
        using var fs = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var lines = new StreamReader(fs).ReadToEnd().Split('\n');
        Assert.Equal("2026-05-06T07:08:09.123Z INFO  step 100 loss 0.5", lines[0]);
        Assert.Equal("2026-05-06T07:08:10.123Z WARN  two lines", lines[1]);
        Assert.Equal("", lines[2]);
    }
}
