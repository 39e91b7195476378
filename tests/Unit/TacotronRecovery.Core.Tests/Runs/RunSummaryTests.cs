using TacotronRecovery.Core.Checkpoints;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Runs;
using static TacotronRecovery.Core.Tests.Runs.RunsTestData;

namespace TacotronRecovery.Core.Tests.Runs;

public class RunSummaryTests
{
    private static RunDirectory MakeRun(TempDir dir, RunState? state)
    {
        var run = new RunDirectory(Path.Combine(dir.Path, "voice")).Create();
        if (state is not null) RunStateStore.Write(run.StateFile, state);
        WriteLines(run.MetricsFile, new[] { Line(1, 3.0), Line(2, 2.5) }, tail: "{\"step\":3");
        using (var w = new JsonLinesWriter<AlignmentMetrics>(run.AlignmentFile))
            w.Append(new AlignmentMetrics { Step = 2, Time = T0, Diagonality = 0.42 });
        var m = new CheckpointManifest(run.ManifestFile);
        m.AddOrUpdate(new CheckpointEntry { File = "step-000002.ckpt", Step = 2, Good = true, Loss = 2.5 });
        m.Save();
        return run;
    }

    [Fact]
    public void Read_RunningWithDeadPid_ReportsFailedEngineNotRunning()
    {
        using var dir = new TempDir();
        var run = MakeRun(dir, new RunState { Name = "voice", Status = RunStatus.Running, Pid = DeadPid(), Host = Environment.MachineName, Step = 1, Updated = DateTimeOffset.UtcNow });

        var s = RunSummary.Read(run);

        Assert.Equal("Failed (engine not running)", s.Status);
        Assert.False(s.EngineAlive);
        Assert.Equal(2, s.Step);
        Assert.Equal(2.5, s.LastLoss);
        Assert.Equal(0.42, s.LastDiagonality);
        Assert.Equal(1, s.Checkpoints);
        Assert.False(RunSummary.IsActive(run));
    }

    [Fact]
    public void Read_RunningWithLivePid_ReportsRunning()
    {
        using var dir = new TempDir();
        var run = MakeRun(dir, new RunState { Name = "voice", Status = RunStatus.Running, Pid = Environment.ProcessId, Host = Environment.MachineName, Updated = DateTimeOffset.UtcNow });
        var s = RunSummary.Read(run);
        Assert.Equal("Running", s.Status);
        Assert.True(s.EngineAlive);
        Assert.True(RunSummary.IsActive(run));
    }

    [Fact]
    public void Read_StoppedAndNoState_ReportedAsRecorded()
    {
        using var dir = new TempDir();
        var run = MakeRun(dir, new RunState { Name = "voice", Status = RunStatus.Completed, Pid = DeadPid(), Host = Environment.MachineName });
        Assert.Equal("Completed", RunSummary.Read(run).Status);
        File.Delete(run.StateFile);
        Assert.Equal("Unknown (no run.json)", RunSummary.Read(run).Status);
    }

    [Fact]
    public void Read_CorruptState_ThrowsRunStateCorrupt()
    {
        using var dir = new TempDir();
        var run = MakeRun(dir, null);
        File.WriteAllText(run.StateFile, "{broken");
        Assert.Equal("RunStateCorrupt", Assert.Throws<RunDataException>(() => RunSummary.Read(run)).ErrorId);
    }
}

public class RunMetricsReaderTests
{
    [Fact]
    public void Read_All_MergesFilesByTimeAndFillsRun()
    {
        using var dir = new TempDir();
        var run = new RunDirectory(Path.Combine(dir.Path, "voice")).Create();
        WriteLines(run.MetricsFile, new[] { Line(1), Line(2), Line(3) });
        using (var w = new JsonLinesWriter<AlignmentMetrics>(run.AlignmentFile))
            w.Append(new AlignmentMetrics { Step = 2, Time = T0.AddSeconds(2.5), Diagonality = 0.3 });
        using (var w = new JsonLinesWriter<TrainingEvent>(run.EventsFile))
            w.Append(new TrainingEvent { Step = 0, Time = T0, Kind = "Started", Code = "Started" });

        var all = new RunMetricsReader(run, MetricsKind.All).Read().ToList();

        Assert.Equal(new[] { "TrainingEvent", "StepMetrics", "StepMetrics", "AlignmentMetrics", "StepMetrics" }, all.Select(o => o.GetType().Name));
        Assert.All(all.OfType<StepMetrics>(), m => Assert.Equal("voice", m.Run));
        Assert.Equal(2, new RunMetricsReader(run, MetricsKind.All).Read(last: 2).Count());
    }

    [Fact]
    public void Read_LastAndSince_Combined()
    {
        using var dir = new TempDir();
        var run = new RunDirectory(Path.Combine(dir.Path, "voice")).Create();
        WriteLines(run.MetricsFile, Enumerable.Range(1, 20).Select(i => Line(i)));
        var got = new RunMetricsReader(run, MetricsKind.Step).Read(last: 3, since: 5).Cast<StepMetrics>().Select(m => m.Step);
        Assert.Equal(new[] { 18, 19, 20 }, got);
        var since = new RunMetricsReader(run, MetricsKind.Step).Read(since: 18).Cast<StepMetrics>().Select(m => m.Step);
        Assert.Equal(new[] { 18, 19, 20 }, since);
    }

    [Fact]
    public void Follow_RunStops_EmitsFinalLinesThenEnds()
    {
        using var dir = new TempDir();
        var run = new RunDirectory(Path.Combine(dir.Path, "voice")).Create();
        WriteLines(run.MetricsFile, new[] { Line(1) });
        bool active = true;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var got = new List<int>();

        foreach (StepMetrics m in new RunMetricsReader(run, MetricsKind.Step).Follow(null, null, () => active, TimeSpan.FromMilliseconds(20), cts.Token))
        {
            got.Add(m.Step);
            if (m.Step == 1)
            {
                // The engine writes its last step and stops: the follow must still emit step 2, then end.
                File.AppendAllText(run.MetricsFile, Line(2) + "\n");
                active = false;
            }
        }

        Assert.Equal(new[] { 1, 2 }, got);
        Assert.False(cts.IsCancellationRequested);
    }
}
