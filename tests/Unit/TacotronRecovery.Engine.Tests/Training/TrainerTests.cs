using TacotronRecovery.Core.Checkpoints;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Engine.Checkpoints;
using TacotronRecovery.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Tests.Training;

[Collection("torch")]
public sealed class TrainerTests : IDisposable
{
    private readonly TrainerScope _trainers = new();

    // A tiny model is fastest on one thread (and immune to spin-waiting on a shared machine).
    public TrainerTests() => torch.set_num_threads(1);

    private (Trainer Trainer, MemorySink Sink, RunDirectory Run) Create(TacotronConfig config, string? dir = null) =>
        _trainers.Create(config, dir);

    private static float[][] Snapshot(Trainer t) => t.Model.parameters().Select(p => p.detach().cpu().data<float>().ToArray()).ToArray();

    [Fact]
    public void Run_CleanData_LossFallsAndCheckpointsAreGood()
    {
        var (t, sink, run) = Create(TrainerFixture.Config());
        using (t)
        {
            t.Start(resume: false);
            Assert.Equal(TrainingOutcome.Completed, t.Run(20, CancellationToken.None));
        }
        Assert.Equal(Enumerable.Range(1, 20), sink.Steps.Select(s => s.Step));
        Assert.All(sink.Steps, s => Assert.False(s.Skipped));
        Assert.True(sink.Steps.Skip(15).Average(s => s.Loss) < sink.Steps.Take(5).Average(s => s.Loss));
        var manifest = CheckpointManifest.Load(run.ManifestFile);
        Assert.Equal(new[] { 0, 5, 10, 15, 20 }, manifest.Entries.Select(e => e.Step));
        Assert.All(manifest.Entries, e => Assert.True(e.Good));
        Assert.Equal(4, sink.Alignments.Count);
    }

    [Fact]
    public void Run_NaNInMelLoss_StepSkippedAndWeightsUnchanged()
    {
        var (t, sink, _) = Create(TrainerFixture.Config(c => c with { Faults = new FaultOptions { NanLossAtStep = 4, NanLossComponent = "mel" } }));
        using (t)
        {
            t.Start(resume: false);
            t.Run(3, CancellationToken.None);
            var before = Snapshot(t);
            t.Run(4, CancellationToken.None);
            var after = Snapshot(t);
            Assert.Equal(before, after);
            t.Run(6, CancellationToken.None);
            Assert.NotEqual(after, Snapshot(t));
        }
        var nan = sink.Steps.Single(s => s.Step == 4);
        Assert.True(nan.Skipped);
        Assert.True(double.IsNaN(nan.MelLoss));
        Assert.Equal(1, sink.Codes.Count(c => c == "SkipStep"));
        Assert.DoesNotContain("Rollback", sink.Codes);
    }

    [Fact]
    public void Run_NaNStorm_SkipsThenRollsBackThenSafeMode()
    {
        var config = TrainerFixture.Config(c => c with { Faults = new FaultOptions { NanLossAtStep = 7, NanLossSteps = 4, NanLossComponent = "gate" } });
        var (t, sink, _) = Create(config);
        using (t)
        {
            t.Start(resume: false);
            t.Run(14, CancellationToken.None);
            Assert.True(t.Model.parameters().All(p => torch.isfinite(p).all().item<bool>()));
        }
        var codes = sink.Codes.Where(c => c is "SkipStep" or "Rollback" or "RollbackCompleted" or "SafeModeEnter").ToList();
        int firstRollback = codes.IndexOf("Rollback");
        Assert.True(firstRollback >= 3, string.Join(",", codes));
        Assert.All(codes.Take(firstRollback), c => Assert.Equal("SkipStep", c));
        Assert.Equal("SafeModeEnter", codes[firstRollback + 1]);
        Assert.Contains("RollbackCompleted", codes);
        var afterRollback = sink.Steps.Last();
        Assert.Equal(1, afterRollback.SafeModeLevel);
        Assert.Equal(5e-4, afterRollback.LearningRate, 10);
        Assert.Equal(0.5, afterRollback.ClipThreshold, 10);
        Assert.False(afterRollback.Skipped);
    }

    [Fact]
    public void Run_CorruptNewestCheckpointThenStorm_RollsBackToOlderGoodOne()
    {
        var config = TrainerFixture.Config(c => c with
        {
            // step-000010 is confirmed good at 13 and corrupted on disk at 14; the storm from 16 needs a rollback.
            Faults = new FaultOptions { CorruptCheckpointAtStep = 14, NanLossAtStep = 16, NanLossSteps = 4 },
        });
        var (t, sink, _) = Create(config);
        using (t)
        {
            t.Start(resume: false);
            t.Run(22, CancellationToken.None);
        }
        Assert.Contains(sink.Events, e => e.Code == "CheckpointRejected");
        var done = sink.Events.First(e => e.Code == "RollbackCompleted");
        Assert.Equal(5, done.Data!["restored_step"]!.GetValue<int>());
    }

    [Fact]
    public void Run_AttentionCollapse_EntersCriticalModeAndRaisesGuidedAttention()
    {
        var config = TrainerFixture.Config(c => c with
        {
            Training = c.Training with { AlignmentEverySteps = 2 },
            GuidedAttention = c.GuidedAttention with { Weight = 1.0 },
            Recovery = c.Recovery with { AttentionWarmupSteps = 4, CriticalDiagonality = 0.99, CooldownSteps = 2 },
            Faults = new FaultOptions { AttentionCollapseAtStep = 3, AttentionCollapseMode = "zero" },
        });
        var (t, sink, _) = Create(config);
        using (t)
        {
            t.Start(resume: false);
            t.Run(12, CancellationToken.None);
        }
        var codes = sink.Codes.ToList();
        Assert.True(codes.IndexOf("FaultInjected") < codes.IndexOf("AttentionCriticalEnter"), string.Join(",", codes));
        Assert.Contains("GuidedAttentionRaise", codes);
        Assert.True(codes.IndexOf("AttentionCriticalEnter") < codes.IndexOf("GuidedAttentionRaise"));
        var last = sink.Steps.Last();
        Assert.Contains("AttentionCritical", last.Mode);
        Assert.InRange(last.GuidedAttentionWeight, 25.0, 50.0); // raised ×5 per evaluation without progress, capped at 50× base
    }

    [Fact]
    public void Run_LearningRateExplosion_RollsBackAndEndsTheExplosion()
    {
        var config = TrainerFixture.Config(c => c with
        {
            Recovery = c.Recovery with { SpikeFactor = 1.5, SpikePersistSteps = 2 },
            Faults = new FaultOptions { LrExplosionAtStep = 8, LrExplosionFactor = 1e6 },
        });
        var (t, sink, _) = Create(config);
        using (t)
        {
            t.Start(resume: false);
            t.Run(30, CancellationToken.None);
            Assert.True(t.Model.parameters().All(p => torch.isfinite(p).all().item<bool>()));
        }
        var codes = sink.Codes.ToList();
        int rollback = codes.IndexOf("Rollback");
        Assert.True(rollback >= 0, string.Join(",", codes));
        Assert.Equal("SafeModeEnter", codes[rollback + 1]);
        Assert.Equal(1e-3 * 1e6, sink.Steps.Single(s => s.Step == 8).LearningRate, 3);
        Assert.True(sink.Steps.Last().LearningRate <= 1e-3);
    }

    [Fact]
    public void Checkpoint_SavedJustBeforeAFault_IsNeverConfirmedGood()
    {
        // Checkpoint at 10, NaN storm from 11: step 10 is saved healthy but must not become a rollback target.
        var config = TrainerFixture.Config(c => c with { Faults = new FaultOptions { NanLossAtStep = 11, NanLossSteps = 4 } });
        var (t, sink, run) = Create(config);
        using (t) { t.Start(resume: false); t.Run(16, CancellationToken.None); }
        var manifest = CheckpointManifest.Load(run.ManifestFile);
        Assert.False(manifest.Entries.Single(e => e.Step == 10).Good);
        Assert.True(manifest.Entries.Single(e => e.Step == 5).Good);
        Assert.Equal(5, sink.Events.First(e => e.Code == "RollbackCompleted").Data!["restored_step"]!.GetValue<int>());
        Assert.Contains(sink.Events, e => e.Code == "CheckpointConfirmed" && e.Step == 8);
    }

    [Fact]
    public void Resume_FromCheckpoint_ReproducesUninterruptedLosses()
    {
        var config = TrainerFixture.Config();
        var (a, sinkA, _) = Create(config);
        using (a) { a.Start(resume: false); a.Run(10, CancellationToken.None); }

        var dir = TrainerFixture.NewRunDir();
        var (b, _, _) = Create(config, dir);
        using (b) { b.Start(resume: false); b.Run(5, CancellationToken.None); }
        var (c, sinkC, _) = Create(config, dir);
        using (c) { c.Start(resume: true); Assert.Equal(5, c.Step); c.Run(10, CancellationToken.None); }

        var expected = sinkA.Steps.Where(s => s.Step > 5).Select(s => s.Loss).ToArray();
        var actual = sinkC.Steps.Select(s => s.Loss).ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 5);
    }

    [Fact]
    public void Run_StopRequested_SavesCheckpointAtCurrentStep()
    {
        var (t, _, run) = Create(TrainerFixture.Config());
        using var cts = new CancellationTokenSource();
        using (t)
        {
            t.Start(resume: false);
            t.Run(3, CancellationToken.None);
            cts.Cancel();
            Assert.Equal(TrainingOutcome.Stopped, t.Run(20, cts.Token));
            Assert.Equal(3, t.Step);
        }
        Assert.True(File.Exists(run.CheckpointPath(3)));
    }

    [Fact]
    public void Run_ManySteps_LiveTensorCountStaysFlat()
    {
        var (t, _, _) = Create(TrainerFixture.Config(c => c with { Training = c.Training with { CheckpointEverySteps = 0, AlignmentEverySteps = 10 } }));
        using (t)
        {
            t.Start(resume: false);
            t.Run(20, CancellationToken.None);
            long after20 = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            t.Run(200, CancellationToken.None);
            long after200 = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            Assert.InRange(after200 - after20, -5, 5);
        }
    }

    [Fact]
    public void CheckpointFile_TamperedOrTruncated_IsRefusedWithClearError()
    {
        var (t, _, run) = Create(TrainerFixture.Config());
        using (t) { t.Start(resume: false); }
        var path = run.CheckpointPath(0);
        var bytes = File.ReadAllBytes(path);

        var truncated = path + ".trunc";
        File.WriteAllBytes(truncated, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        var e1 = Assert.Throws<CheckpointCorruptException>(() => CheckpointFile.Read(truncated));
        Assert.Contains("truncated", e1.Message);
        Assert.Contains(truncated, e1.Message);

        var tampered = path + ".tamper";
        bytes[bytes.Length / 3] ^= 0x01;
        File.WriteAllBytes(tampered, bytes);
        var e2 = Assert.Throws<CheckpointCorruptException>(() => CheckpointFile.Read(tampered));
        Assert.Contains("hash does not match", e2.Message);

        var garbage = path + ".txt";
        File.WriteAllText(garbage, "not a checkpoint at all, just some text that is long enough");
        Assert.Contains("not a TacotronRecovery checkpoint", Assert.Throws<CheckpointCorruptException>(() => CheckpointFile.Read(garbage)).Message);
    }

    public void Dispose() => _trainers.Dispose();
}
