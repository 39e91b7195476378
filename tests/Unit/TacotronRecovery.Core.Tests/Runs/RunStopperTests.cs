using System.Diagnostics;
using System.Text.Json;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Tests.Runs;

public class RunStopperTests
{
    // A supervisor deletes its lock a moment before its process ends; Stop-TacotronTraining returned in that moment and
    // a caller that checked the processes found the supervisor alive (CI, stop 20). The wait is for the process.
    [Fact]
    public async Task RequestAndWait_LockReleasedBeforeTheProcessEnds_WaitsForTheProcess()
    {
        if (OperatingSystem.IsWindows()) return; // `sleep` as a stand-in supervisor
        using var dir = new TempDir();
        var run = new RunDirectory(dir.File("r")).Create();
        using var supervisor = StartSupervisor(run);
        try
        {
            var exit = Task.Run(async () =>
            {
                await Task.Delay(600);
                File.Delete(run.SupervisorLockFile); // released ...
                await Task.Delay(1500);
                supervisor.Kill();                    // ... then the process ends
            });

            var left = RunStopper.RequestAndWait(run, TimeSpan.FromSeconds(20));

            Assert.False(left.AnyAlive);
            Assert.True(supervisor.HasExited);
            await exit;
        }
        finally
        {
            if (!supervisor.HasExited) supervisor.Kill();
            supervisor.WaitForExit();
        }
    }

    [Fact]
    public async Task RequestAndWait_ProcessOutlivesTheTimeout_IsReportedAlive()
    {
        if (OperatingSystem.IsWindows()) return;
        using var dir = new TempDir();
        var run = new RunDirectory(dir.File("r")).Create();
        using var supervisor = StartSupervisor(run);
        try
        {
            var release = Task.Run(async () => { await Task.Delay(300); File.Delete(run.SupervisorLockFile); });

            var left = RunStopper.RequestAndWait(run, TimeSpan.FromSeconds(1.5));

            await release;
            Assert.Equal(supervisor.Id, left.Supervisor);
        }
        finally
        {
            supervisor.Kill();
            supervisor.WaitForExit();
        }
    }

    /// <summary>A `sleep` standing in for the run's supervisor, recorded in supervisor.lock as the real one would be.</summary>
    private static Process StartSupervisor(RunDirectory run)
    {
        var supervisor = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        File.WriteAllText(run.SupervisorLockFile, JsonSerializer.Serialize(new RunLockInfo
        {
            Pid = supervisor.Id, ProcessStarted = new DateTimeOffset(supervisor.StartTime), Acquired = DateTimeOffset.UtcNow,
            Host = Environment.MachineName,
        }, RunJson.Options));
        return supervisor;
    }
}
