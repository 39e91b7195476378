using System.Diagnostics;
using System.Text;
using System.Text.Json;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Core.Tests.Runs;
using static TacotronRecovery.Core.Tests.Runs.RunsTestData;

namespace TacotronRecovery.Core.Tests.Robustness;

/// <summary>
/// Run directories as a kill -9 leaves them (docs/robustness.md): torn JSON lines, a missing or corrupt run.json, a
/// dead engine's lock, a second engine, steps written again after a resume. Each case names the file (and line), leaves
/// what was written intact and is fast.
/// </summary>
public sealed class HostileRunDirectoryTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(3);

    private static void Fast(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        Assert.True(clock.Elapsed < Bound, $"took {clock.Elapsed}");
    }

    private static string Event(int step, string code) => JsonSerializer.Serialize(new TrainingEvent
    {
        Step = step, Time = T0.AddSeconds(step), Kind = "Info", Code = code, Severity = EventSeverity.Info, Message = code,
    }, RunJson.Options);

    [Fact]
    public void TornLastMetricsLine_ReaderSkipsItNamingTheLine_WriterStartsANewLineAndKeepsTheBytes()
    {
        using var dir = new TempDir();
        var f = dir.File("metrics.jsonl");
        WriteLines(f, new[] { Line(1), Line(2) }, tail: Line(3)[..40]);
        var before = File.ReadAllBytes(f);

        Fast(() =>
        {
            var stats = new JsonLinesStats();
            Assert.Equal(new[] { 1, 2 }, JsonLines.Read<StepMetrics>(f, stats).Select(m => m.Step));
            Assert.True(stats.TornTail);
            Assert.Equal(3, stats.Skips.Single().LineNumber);

            using (var w = new JsonLinesWriter<StepMetrics>(f))
            {
                Assert.True(w.RepairedTornLine);
                w.Append(Step(3));
            }
        });

        var after = File.ReadAllBytes(f);
        Assert.Equal(before, after[..before.Length]); // nothing already written changed
        var again = new JsonLinesStats();
        Assert.Equal(new[] { 1, 2, 3 }, JsonLines.Read<StepMetrics>(f, again).Select(m => m.Step));
        // The torn fragment stays as an unreadable line of its own, reported with its number; never glued to a record.
        Assert.False(again.TornTail);
        Assert.Equal(3, again.Skips.Single().LineNumber);
    }

    [Fact]
    public void TornLastEventsLine_ReaderSkipsIt_WriterDoesNotGlueTheNextEventToIt()
    {
        using var dir = new TempDir();
        var f = dir.File("events.jsonl");
        WriteLines(f, new[] { Event(1, "TrainingStarted") }, tail: Event(2, "CheckpointSaved")[..25]);

        var stats = new JsonLinesStats();
        Assert.Equal(new[] { "TrainingStarted" }, JsonLines.Read<TrainingEvent>(f, stats).Select(e => e.Code));
        Assert.True(stats.TornTail);

        using (var w = new JsonLinesWriter<TrainingEvent>(f))
            w.Append(new TrainingEvent { Step = 2, Time = T0, Kind = "Info", Code = "Resumed", Severity = EventSeverity.Info, Message = "m" });

        var codes = JsonLines.Read<TrainingEvent>(f).Select(e => e.Code).ToList();
        Assert.Equal(new[] { "TrainingStarted", "Resumed" }, codes);
    }

    [Fact]
    public void MissingRunJson_IsRunStateMissingNamingTheFile_AndTheSummarySaysSo()
    {
        using var dir = new TempDir();
        var run = new RunDirectory(dir.File("r")).Create();
        WriteLines(run.MetricsFile, new[] { Line(1), Line(2) });

        var e = Assert.Throws<RunDataException>(() => RunStateStore.Read(run.StateFile));
        Assert.Equal("RunStateMissing", e.ErrorId);
        Assert.Contains(run.StateFile, e.Message);
        var summary = RunSummary.Read(run);
        Assert.Equal("Unknown (no run.json)", summary.Status);
        Assert.Equal(2, summary.Step);
        Assert.Equal(2, RunSummary.LastStep(run));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{\"name\":\"r\",\"status\":\"Runn")]
    [InlineData("\0\0\0\0\0\0\0\0")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"status\":\"Exploded\"}")]
    public void CorruptRunJson_IsRunStateCorruptNamingTheFile_AndLeftAsItIs(string content)
    {
        using var dir = new TempDir();
        var run = new RunDirectory(dir.File("r")).Create();
        File.WriteAllText(run.StateFile, content);
        WriteLines(run.MetricsFile, new[] { Line(1), Line(2), Line(3) });

        Fast(() =>
        {
            var e = Assert.Throws<RunDataException>(() => RunStateStore.Read(run.StateFile));
            Assert.Equal("RunStateCorrupt", e.ErrorId);
            Assert.Contains(run.StateFile, e.Message);
            Assert.Equal(run.StateFile, e.Target);
            // What the supervisor needs after a death still works: the furthest step comes from the metrics.
            Assert.Equal(3, RunSummary.LastStep(run));
        });
        Assert.Equal(content, File.ReadAllText(run.StateFile));
    }

    [Fact]
    public void DeadEnginesLock_IsTakenOverWithANote_UnreadableOldLockToo()
    {
        using var dir = new TempDir();
        var f = dir.File("engine.lock");
        int dead = DeadPid();
        File.WriteAllText(f, JsonSerializer.Serialize(new RunLockInfo
        {
            Pid = dead, ProcessStarted = DateTimeOffset.UtcNow.AddHours(-1), Acquired = DateTimeOffset.UtcNow.AddHours(-1), Host = Environment.MachineName,
        }, RunJson.Options));
        using (var l = RunLock.Acquire(f)) Assert.Contains($"pid {dead}", l.TakeOverNote);

        File.WriteAllText(f, "{\"pid\":12"); // torn by a kill while the lock was written
        File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddMinutes(-1));
        using (var l = RunLock.Acquire(f))
        {
            Assert.Contains("unreadable lock", l.TakeOverNote);
            Assert.Equal(Environment.ProcessId, RunLock.ReadHolder(f)!.Pid);
        }
    }

    [Fact]
    public void SecondEngineOnARunningRun_IsRefusedWithRunLocked_AndTheLockIsUntouched()
    {
        using var dir = new TempDir();
        var f = dir.File("engine.lock");
        using var engine = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        try
        {
            var held = JsonSerializer.Serialize(new RunLockInfo
            {
                Pid = engine.Id, ProcessStarted = new DateTimeOffset(engine.StartTime), Acquired = DateTimeOffset.UtcNow, Host = Environment.MachineName,
            }, RunJson.Options);
            File.WriteAllText(f, held);
            Fast(() =>
            {
                var e = Assert.Throws<RunDataException>(() => RunLock.Acquire(f));
                Assert.Equal("RunLocked", e.ErrorId);
                Assert.Contains($"pid {engine.Id}", e.Message);
                Assert.Contains(f, e.Message);
            });
            Assert.Equal(held, File.ReadAllText(f));
        }
        finally
        {
            engine.Kill();
            engine.WaitForExit();
        }
    }

    [Fact]
    public void ResumedSteps_TheRecordWrittenLastWins_AndAnAbandonedStretchIsDropped()
    {
        using var dir = new TempDir();
        var f = dir.File("metrics.jsonl");
        // Engine 1 reached step 10 (checkpoints at 2, 4, 6, 8); killed, resumed from 6: steps 7, 8 again (loss 2);
        // killed again, resumed from 4 (6 and 8 were never confirmed good): 5..7 again (loss 3).
        var lines = Enumerable.Range(1, 10).Select(s => Line(s))
            .Concat(new[] { Line(7, 2), Line(8, 2) })
            .Concat(new[] { Line(5, 3), Line(6, 3), Line(7, 3) });
        WriteLines(f, lines);

        var stats = new JsonLinesStats();
        var current = JsonLines.ReadCurrent<StepMetrics>(f, stats).ToList();

        Assert.Equal(new[] { 1, 2, 3, 4, 5, 6, 7 }, current.Select(m => m.Step));
        Assert.All(current.Where(m => m.Step >= 5), m => Assert.Equal(3, m.Loss));
        Assert.Equal(8, stats.Superseded); // 5..10 of the first engine, 7 and 8 of the second
        Assert.Equal(7, stats.Records);

        Assert.Equal(new[] { 6, 7 }, JsonLines.ReadCurrent<StepMetrics>(f, since: 6).Select(m => m.Step));
        var tail = JsonLines.ReadLast<StepMetrics>(f, 4).ToList();
        Assert.Equal(new[] { 5, 6, 7 }, JsonLines.Current(tail, m => m.Step).Select(m => m.Step));

        var run = new RunDirectory(dir.Path);
        Assert.Equal(new[] { 1, 2, 3, 4, 5, 6, 7 }, new RunMetricsReader(run, MetricsKind.Step).Read().Cast<StepMetrics>().Select(m => m.Step));
        Assert.Equal(new[] { 5, 6, 7 }, new RunMetricsReader(run, MetricsKind.Step).Read(last: 3).Cast<StepMetrics>().Select(m => m.Step));
        Assert.Equal(new[] { 7 }, new RunMetricsReader(run, MetricsKind.Step).Read(since: 7).Cast<StepMetrics>().Select(m => m.Step));
    }

    [Fact]
    public void ResumedSteps_HealthSeesTheCurrentTimelineOnly()
    {
        using var dir = new TempDir();
        var run = new RunDirectory(dir.File("r")).Create();
        // The dead engine's last steps were diverging (loss 50); the resumed engine's are healthy. Without the rule the
        // analyzer would read 1, …, 30, 31 … 40 (loss 50), 31 … 40 (loss 1) and see a spike.
        WriteLines(run.MetricsFile, Enumerable.Range(1, 30).Select(s => Line(s))
            .Concat(Enumerable.Range(31, 10).Select(s => Line(s, 50)))
            .Concat(Enumerable.Range(31, 10).Select(s => Line(s))));

        var report = Core.Health.RunHealth.Analyze(run, null, null, null, out long skipped);

        Assert.Equal(0, skipped);
        Assert.Equal(40, report.StepsAnalyzed);
        Assert.Equal(40, report.LastStep);
        Assert.Empty(report.Findings);
    }

    [Fact]
    public void TempFilesOfKilledWriters_AreRemoved_ThoseOfLiveWritersAndEverythingElseKept()
    {
        using var dir = new TempDir();
        var run = new RunDirectory(dir.File("r")).Create();
        int dead = DeadPid();
        string guid = Guid.NewGuid().ToString("N");
        var orphans = new[]
        {
            System.IO.Path.Combine(run.CheckpointsDir, $"step-000004.ckpt.tmp-{dead}"),
            System.IO.Path.Combine(run.CheckpointsDir, $".manifest.json.{dead}.{guid}.tmp"),
            System.IO.Path.Combine(run.Path, $".run.json.{dead}.{guid}.tmp"),
        };
        var kept = new[]
        {
            System.IO.Path.Combine(run.Path, $".run.json.{Environment.ProcessId}.{guid}.tmp"), // a live writer's
            System.IO.Path.Combine(run.CheckpointsDir, "step-000004.ckpt"),
            run.MetricsFile,
            System.IO.Path.Combine(run.Path, "notes.tmp"),
        };
        foreach (var f in orphans.Concat(kept)) File.WriteAllText(f, "x");

        var removed = run.RemoveOrphanedTempFiles();

        Assert.Equal(orphans.Select(System.IO.Path.GetFileName).Order(), removed.Order());
        Assert.All(orphans, f => Assert.False(File.Exists(f)));
        Assert.All(kept, f => Assert.True(File.Exists(f)));
    }
}
