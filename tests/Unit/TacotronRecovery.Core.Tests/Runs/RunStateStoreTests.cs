using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Tests.Runs;

public class RunStateStoreTests
{
    private static readonly DateTimeOffset T = new(2026, 3, 4, 5, 6, 7, TimeSpan.Zero);

    [Fact]
    public void WriteRead_State_RoundTripsWithSnakeCaseNames()
    {
        using var dir = new TempDir();
        var f = dir.File("run.json");
        var state = new RunState
        {
            Name = "voice", Status = RunStatus.Failed, Pid = 4242, Host = "box", Started = T, Updated = T.AddHours(1),
            Step = 1500, ExitCode = 3, Message = "recovery exhausted", Device = "cuda:0",
        };

        RunStateStore.Write(f, state);
        var json = File.ReadAllText(f);

        Assert.Equal(state, RunStateStore.Read(f));
        Assert.Contains("\"exit_code\": 3", json);
        Assert.Contains("\"status\": \"Failed\"", json);
        Assert.DoesNotContain("is_active", json);
    }

    [Fact]
    public void Read_CorruptFile_ThrowsRunStateCorruptNamingTheFile()
    {
        using var dir = new TempDir();
        var f = dir.File("run.json");
        File.WriteAllText(f, "{\"name\":\"voice\",\"status\":");

        var ex = Assert.Throws<RunDataException>(() => RunStateStore.Read(f));

        Assert.Equal("RunStateCorrupt", ex.ErrorId);
        Assert.Equal(f, ex.Target);
        Assert.Contains(f, ex.Message);
    }

    [Fact]
    public void Read_UnknownStatus_ThrowsRunStateCorrupt()
    {
        using var dir = new TempDir();
        var f = dir.File("run.json");
        File.WriteAllText(f, "{\"name\":\"voice\",\"status\":\"Sleeping\"}");
        Assert.Equal("RunStateCorrupt", Assert.Throws<RunDataException>(() => RunStateStore.Read(f)).ErrorId);
    }

    [Fact]
    public void Read_MissingFile_ThrowsRunStateMissingAndTryReadIsNull()
    {
        using var dir = new TempDir();
        var f = dir.File("run.json");
        Assert.Equal("RunStateMissing", Assert.Throws<RunDataException>(() => RunStateStore.Read(f)).ErrorId);
        Assert.Null(RunStateStore.TryRead(f));
    }
}
