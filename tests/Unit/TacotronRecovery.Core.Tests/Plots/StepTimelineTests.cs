using System.Text.Json.Nodes;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Plots;

namespace TacotronRecovery.Core.Tests.Plots;

public sealed class StepTimelineTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 5, 8, 0, 0, TimeSpan.Zero);

    /// <summary>A run as the engine writes it: records in file order, each one second after the one before.</summary>
    internal sealed class RunLog
    {
        private int _clock;
        public List<StepMetrics> Steps { get; } = [];
        public List<AlignmentMetrics> Alignments { get; } = [];
        public List<TrainingEvent> Events { get; } = [];

        private DateTimeOffset Tick() => T0.AddSeconds(++_clock);

        public RunLog Train(int from, int to)
        {
            for (int s = from; s <= to; s++)
                Steps.Add(new StepMetrics { Run = "r", Step = s, Time = Tick(), Loss = 1.0 / s, MelLoss = 0.5 / s, LearningRate = 1e-3 });
            return this;
        }

        public RunLog Align(int step, double diagonality, string source = "train")
        {
            Alignments.Add(new AlignmentMetrics { Run = "r", Step = step, Time = Tick(), Source = source, Diagonality = diagonality, Quality = 100 * diagonality });
            return this;
        }

        public RunLog Rollback(int restored)
        {
            Events.Add(new TrainingEvent
            {
                Run = "r", Step = Steps[^1].Step, Time = Tick(), Kind = "Training", Code = "RollbackCompleted",
                Data = new JsonObject { ["restored_step"] = restored, ["target"] = "LastGood" },
            });
            return this;
        }

        public StepTimeline Timeline() => StepTimeline.From(Steps, Events);
    }

    private static IReadOnlyList<CurveSegment> LossSegments(RunLog log) =>
        log.Timeline().Segments(log.Steps, m => m.Step, m => m.Time, m => m.Loss);

    private static (double From, double To, bool Abandoned)[] Spans(IEnumerable<CurveSegment> segments) =>
        segments.Select(g => (g.Xs[0], g.Xs[^1], g.Abandoned)).ToArray();

    [Fact]
    public void From_NoRollback_OneLiveSegmentNoMarks()
    {
        var log = new RunLog().Train(1, 50);
        Assert.Empty(log.Timeline().Rollbacks);
        var g = Assert.Single(LossSegments(log));
        Assert.False(g.Abandoned);
        Assert.Equal(Enumerable.Range(1, 50).Select(s => (double)s), g.Xs);
        Assert.Equal(log.Steps.Select(m => m.Loss), g.Ys);
    }

    [Fact]
    public void From_RollbackCompletedEvent_AbandonsStepsAfterRestoredCheckpoint()
    {
        // In-process rollback: at step 30 the engine restores step 20 and keeps counting (31, 32, ...).
        var log = new RunLog().Train(1, 30).Rollback(restored: 20).Train(31, 50);
        var mark = Assert.Single(log.Timeline().Rollbacks);
        Assert.Equal(new RollbackMark(30, 20, log.Events[0].Time, "rollback to 20"), mark);
        var abandoned = log.Timeline().Abandoned(log.Steps, m => m.Step, m => m.Time);
        Assert.Equal(Enumerable.Range(21, 10), log.Steps.Where((m, i) => abandoned[i]).Select(m => m.Step));
        // The live path is broken over 21..30: a line from 20 to 31 would read as data.
        Assert.Equal(new[] { (1.0, 20.0, false), (21.0, 30.0, true), (31.0, 50.0, false) }, Spans(LossSegments(log)));
    }

    [Fact]
    public void From_StepGoesBack_MarksResumeAndAbandonsTheFirstRecordsOfRepeatedSteps()
    {
        // Engine killed after step 40, restarted from the checkpoint of step 35: steps 36..40 are recorded twice.
        var log = new RunLog().Train(1, 40).Train(36, 60);
        var mark = Assert.Single(log.Timeline().Rollbacks);
        Assert.Equal((40, 35, "resumed from 35"), (mark.AtStep, mark.ToStep, mark.Label));
        Assert.Equal(log.Steps[40].Time, mark.Time);   // the first record of the resumed engine
        // The live path runs on from the checkpoint's step 35 to the resumed 36; the first 36..40 are dimmed beside it.
        Assert.Equal(new[] { (1.0, 60.0, false), (36.0, 40.0, true) }, Spans(LossSegments(log)));
        Assert.Equal(Enumerable.Range(1, 60).Select(s => (double)s), LossSegments(log)[0].Xs);
    }

    [Fact]
    public void From_StepsGoBackWithoutTimes_StillSplitsByFileOrder()
    {
        var steps = new[] { 1, 2, 3, 4, 5, 3, 4, 5, 6 }.Select(s => new StepMetrics { Step = s, Loss = s }).ToList();
        var t = StepTimeline.From(steps);
        Assert.Equal(new[] { false, false, true, true, true, false, false, false, false }, t.Abandoned(steps, m => m.Step, m => m.Time));
        Assert.Equal(new[] { (1.0, 6.0, false), (3.0, 5.0, true) },
            Spans(t.Segments(steps, m => m.Step, m => m.Time, m => m.Loss)));
    }

    [Fact]
    public void Segments_SeveralRollbacksAndRestarts_NoSegmentGoesBackAndLivePathIsMonotonic()
    {
        var log = new RunLog()
            .Train(1, 30).Rollback(restored: 20)        // rollback at 30 to 20, steps continue
            .Train(31, 70).Train(51, 80)                // restart after 70 from 50
            .Train(61, 90)                              // restart after 80 from 60 (inside the previous repeat)
            .Rollback(restored: 85).Train(91, 120);     // rollback at 90 to 85
        var t = log.Timeline();
        Assert.Equal(new[] { (30, 20), (70, 50), (80, 60), (90, 85) }, t.Rollbacks.Select(m => (m.AtStep, m.ToStep)));
        var segments = LossSegments(log);
        foreach (var g in segments)
            for (int i = 1; i < g.Xs.Length; i++) Assert.True(g.Xs[i] > g.Xs[i - 1], $"segment {g.Xs[0]}..{g.Xs[^1]} goes back at {g.Xs[i]}");
        var live = segments.Where(g => !g.Abandoned).SelectMany(g => g.Xs).ToList();
        Assert.Equal(Enumerable.Range(1, 20).Concat(Enumerable.Range(31, 30)).Concat(Enumerable.Range(61, 25)).Concat(Enumerable.Range(91, 30)).Select(s => (double)s), live);
        Assert.Equal(new[] { (21.0, 30.0), (51.0, 70.0), (61.0, 80.0), (86.0, 90.0) },
            segments.Where(g => g.Abandoned).Select(g => (g.Xs[0], g.Xs[^1])));
        // Live segments break only at the in-process rollbacks (30 -> 20, 90 -> 85); resumes continue the path.
        Assert.Equal(new[] { (1.0, 20.0), (31.0, 85.0), (91.0, 120.0) }, segments.Where(g => !g.Abandoned).Select(g => (g.Xs[0], g.Xs[^1])));
        // Every step record is drawn exactly once.
        Assert.Equal(log.Steps.Count, segments.Sum(g => g.Xs.Length));
    }

    [Fact]
    public void Abandoned_AlignmentRecords_JudgedByTimeAgainstTheStepRollbacks()
    {
        var log = new RunLog().Train(1, 20).Align(20, 0.5)
            .Train(21, 30).Align(25, 0.1).Rollback(restored: 20).Align(30, 0.5, "validation")   // validation after the rollback: live
            .Train(31, 45).Align(40, 0.6)
            .Train(36, 41).Align(41, 0.6);                                                        // restart after 45 from 35
        var flags = log.Timeline().Abandoned(log.Alignments, m => m.Step, m => m.Time);
        // 25 was measured on the weights the rollback to 20 threw away; 40 on those the resume from 35 threw away
        // (the resumed engine has not reached step 40 again, so only the time tells).
        Assert.Equal(new[] { false, true, false, true, false }, flags);
    }

    [Fact]
    public void From_IgnoresOtherEventsAndRollbacksThatDoNotGoBack()
    {
        var log = new RunLog().Train(1, 10);
        log.Events.Add(new TrainingEvent { Step = 5, Time = T0, Code = "Rollback", Data = new JsonObject { ["restored_step"] = 2 } });
        log.Events.Add(new TrainingEvent { Step = 6, Time = T0, Code = "RollbackCompleted" });
        log.Events.Add(new TrainingEvent { Step = 7, Time = T0, Code = "RollbackCompleted", Data = new JsonObject { ["restored_step"] = 7 } });
        log.Events.Add(new TrainingEvent { Step = 8, Time = T0, Code = "RollbackCompleted", Data = new JsonObject { ["restored_step"] = "x" } });
        Assert.Empty(log.Timeline().Rollbacks);
    }

    [Fact]
    public void Segments_NonFiniteValues_LeftOutWithoutSplitting()
    {
        var log = new RunLog().Train(1, 10);
        log.Steps[4] = log.Steps[4] with { Loss = double.NaN };
        var g = Assert.Single(LossSegments(log));
        Assert.Equal(new double[] { 1, 2, 3, 4, 6, 7, 8, 9, 10 }, g.Xs);
    }

    [Fact]
    public void StageBand_FromModes_StepGoesBack_EndsTheBand()
    {
        var steps = new[] { (1, "Normal"), (2, "SafeMode"), (3, "SafeMode"), (2, "SafeMode"), (3, "SafeMode"), (4, "Normal") }
            .Select(p => new StepMetrics { Step = p.Item1, Mode = p.Item2 });
        Assert.Equal(new[] { new StageBand("SafeMode", 2, 3), new StageBand("SafeMode", 2, 3) }, StageBand.FromModes(steps));
    }
}
