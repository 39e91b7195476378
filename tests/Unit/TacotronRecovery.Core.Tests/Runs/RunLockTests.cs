using System.Diagnostics;
using System.Text.Json;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Tests.Runs;

public class RunLockTests
{
    [Fact]
    public void Acquire_FreeRun_WritesPidAndDisposeReleases()
    {
        using var dir = new TempDir();
        var f = dir.File("engine.lock");
        using (var l = RunLock.Acquire(f))
        {
            Assert.Null(l.TakeOverNote);
            var holder = RunLock.ReadHolder(f)!;
            Assert.Equal(Environment.ProcessId, holder.Pid);
            Assert.Equal(Environment.MachineName, holder.Host);
            Assert.Contains("\"process_started\"", File.ReadAllText(f));
        }
        Assert.False(File.Exists(f));
    }

    [Fact]
    public void Acquire_HeldByLiveProcess_FailsNamingThePid()
    {
        using var dir = new TempDir();
        var f = dir.File("engine.lock");
        using var sleeper = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        try
        {
            File.WriteAllText(f, JsonSerializer.Serialize(new RunLockInfo
            {
                Pid = sleeper.Id, ProcessStarted = new DateTimeOffset(sleeper.StartTime), Acquired = DateTimeOffset.UtcNow,
                Host = Environment.MachineName,
            }, RunJson.Options));

            var ex = Assert.Throws<RunDataException>(() => RunLock.Acquire(f));

            Assert.Equal("RunLocked", ex.ErrorId);
            Assert.Contains($"pid {sleeper.Id}", ex.Message);
            Assert.Equal(sleeper.Id, RunLock.ReadHolder(f)!.Pid); // untouched
        }
        finally
        {
            sleeper.Kill();
            sleeper.WaitForExit();
        }
    }

    [Fact]
    public void Acquire_StaleLockOfDeadPid_TakesOverWithNote()
    {
        using var dir = new TempDir();
        var f = dir.File("engine.lock");
        int dead = RunsTestData.DeadPid();
        File.WriteAllText(f, JsonSerializer.Serialize(new RunLockInfo
        {
            Pid = dead, ProcessStarted = DateTimeOffset.UtcNow.AddMinutes(-5), Acquired = DateTimeOffset.UtcNow.AddMinutes(-5),
            Host = Environment.MachineName,
        }, RunJson.Options));

        using var l = RunLock.Acquire(f);

        Assert.Contains($"stale lock of engine pid {dead}", l.TakeOverNote);
        Assert.Equal(Environment.ProcessId, RunLock.ReadHolder(f)!.Pid);
    }

    [Fact]
    public void Acquire_HeldByAnotherHost_FailsNamingHostAndPid()
    {
        using var dir = new TempDir();
        var f = dir.File("engine.lock");
        File.WriteAllText(f, JsonSerializer.Serialize(new RunLockInfo { Pid = 77, Host = "other-box", Acquired = DateTimeOffset.UtcNow }, RunJson.Options));

        var ex = Assert.Throws<RunDataException>(() => RunLock.Acquire(f));

        Assert.Equal("RunLocked", ex.ErrorId);
        Assert.Contains("pid 77 on host 'other-box'", ex.Message);
    }

    [Fact]
    public void Acquire_AlreadyHeldByThisProcess_Fails()
    {
        using var dir = new TempDir();
        var f = dir.File("engine.lock");
        using var first = RunLock.Acquire(f);
        Assert.Equal("RunLocked", Assert.Throws<RunDataException>(() => RunLock.Acquire(f)).ErrorId);
    }

    [Fact]
    public void IsAlive_SelfDeadAndReusedPid_Distinguished()
    {
        Assert.True(ProcessProbe.IsAlive(Environment.ProcessId));
        Assert.False(ProcessProbe.IsAlive(RunsTestData.DeadPid()));
        Assert.False(ProcessProbe.IsAlive(0));
        // A record written before this process started cannot be about this process.
        Assert.False(ProcessProbe.IsAlive(Environment.ProcessId, notStartedAfter: new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero)));
    }
}
