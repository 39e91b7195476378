using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Contract;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Tests.Runs;

public class TrainingLaunchTests
{
    [Fact]
    public void Prepare_RunFromConfigName_ArgumentsInOrder()
    {
        using var dir = new TempDir();
        var config = dir.File("voice.yaml");
        File.WriteAllText(config, "name: myvoice\n");
        var launch = TrainingLaunch.Prepare(new TrainingRequest { Config = config, RunsRoot = dir.File("runs"), MaxSteps = 10, Resume = true, Detached = true });
        Assert.Equal(Path.Combine(dir.Path, "runs", "myvoice"), launch.Run.Path);
        Assert.Equal(["supervise", "--config", config, "--runs-root", dir.File("runs"), "--run", "myvoice", "--max-steps", "10", "--resume", "--quiet"], launch.Arguments);
    }

    [Fact]
    public void Prepare_MissingConfig_FileNotFound_BrokenConfig_ConfigException()
    {
        using var dir = new TempDir();
        Assert.Throws<FileNotFoundException>(() => TrainingLaunch.Prepare(new TrainingRequest { Config = dir.File("none.yaml"), RunsRoot = dir.Path }));
        File.WriteAllText(dir.File("bad.yaml"), "training:\n  lerning_rate: 0.1\n");
        Assert.Equal("ConfigInvalid", Assert.Throws<ConfigException>(() => TrainingLaunch.Prepare(new TrainingRequest { Config = dir.File("bad.yaml"), RunsRoot = dir.Path })).ErrorId);
    }

    [Fact]
    public void Prepare_RootedRun_UsedAsTheFolder()
    {
        using var dir = new TempDir();
        var launch = TrainingLaunch.Prepare(new TrainingRequest { Run = dir.File("elsewhere"), RunsRoot = dir.File("runs") });
        Assert.Equal(dir.File("elsewhere"), launch.Run.Path);
    }

    [Fact]
    public void Feed_WritesEveryNthStepAndSkips_WarnsOnCritical_ProgressOncePerSecond()
    {
        var feed = new TrainingFeed(metricsInterval: 10, maxSteps: 100);
        var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var first = feed.Observe(new StepMetrics { Step = 10, Loss = 1, StepSeconds = 2 }, t0);
        Assert.True(first.Write);
        Assert.Equal((10, 180), (first.Progress!.Percent, first.Progress.SecondsRemaining));
        var second = feed.Observe(new StepMetrics { Step = 11, Loss = 1, StepSeconds = 2 }, t0.AddMilliseconds(500));
        Assert.False(second.Write);
        Assert.Null(second.Progress);
        Assert.True(feed.Observe(new StepMetrics { Step = 12, Skipped = true }, t0.AddSeconds(2)).Write);
        Assert.True(feed.Observe(new AlignmentMetrics { Step = 12, Diagonality = 0.5 }, t0).Write);
        Assert.Contains("Diagonality 50", feed.Observe(new StepMetrics { Step = 13 }, t0.AddSeconds(4)).Progress!.Status, StringComparison.Ordinal);

        var info = feed.Observe(new TrainingEvent { Kind = EventKinds.Training, Code = EventCodes.Resumed, Severity = EventSeverity.Info }, t0);
        Assert.False(info.Write);
        Assert.True(feed.Observe(new TrainingEvent { Kind = EventKinds.Checkpoint, Code = EventCodes.CheckpointSaved, Severity = EventSeverity.Info }, t0).Write);
        var critical = feed.Observe(new TrainingEvent { Step = 5, Kind = EventKinds.Recovery, Code = EventCodes.Rollback, Severity = EventSeverity.Critical, Message = "m" }, t0);
        Assert.True(critical.Write);
        Assert.Equal("step 5: Rollback: m", critical.Warning);
    }

    [Fact]
    public void Stopper_Kill_WithNothingAlive_RecordsKilledAndClearsTheRequest()
    {
        using var dir = new TempDir();
        var run = new RunDirectory(dir.File("r")).Create();
        run.RequestStop();
        var kill = RunStopper.Kill(run, new RunProcesses(null, null), 5);
        Assert.True(kill.Killed);
        Assert.Contains("did not stop within 5 s", kill.Message, StringComparison.Ordinal);
        var state = RunStateStore.Read(run.StateFile);
        Assert.Equal((RunStatus.Killed, (int?)ExitCodes.Killed), (state.Status, state.ExitCode));
        var e = Assert.Single(JsonLines.ReadLast<TrainingEvent>(run.EventsFile, 10));
        Assert.Equal((EventKinds.Killed, EventCodes.TrainingKilled), (e.Kind, e.Code));
        Assert.False(run.StopRequested);
        Assert.False(RunStopper.IsRunning(run));
    }
}
