using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Engine.Checkpoints;
using TacotronRecovery.Engine.Interop;
using TacotronRecovery.Engine.Model;
using TacotronRecovery.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Tests.Training;

/// <summary>MMI in the training loop: metrics, the non-finite guard, safe mode switching it, checkpoints and interop.</summary>
[Collection("torch")]
public sealed class MmiTrainingTests : IDisposable
{
    private readonly TrainerScope _trainers = new();

    public MmiTrainingTests() => torch.set_num_threads(1);

    private static TacotronConfig Mmi(Func<TacotronConfig, TacotronConfig>? change = null)
    {
        var config = TrainerFixture.Config(c => c with { Training = c.Training with { Mmi = true } });
        return change is null ? config : change(config);
    }

    private (Trainer Trainer, MemorySink Sink, RunDirectory Run) Create(TacotronConfig config, string? dir = null) =>
        _trainers.Create(config, dir);

    private static float[][] Snapshot(nn.Module m) => m.parameters().Select(p => p.detach().cpu().data<float>().ToArray()).ToArray();

    [Fact]
    public void Run_MmiOn_LossInEveryStepFiniteWithFactorAndCheckpointSections()
    {
        var (t, sink, run) = Create(Mmi());
        using (t)
        {
            t.Start(resume: false);
            Assert.Equal(TrainingOutcome.Completed, t.Run(10, CancellationToken.None));
        }
        Assert.Equal(10, sink.Steps.Count);
        Assert.All(sink.Steps, s =>
        {
            Assert.False(s.Skipped);
            Assert.True(s.MmiLoss is { } m && double.IsFinite(m) && m > 0, $"step {s.Step}: mmi {s.MmiLoss}");
            Assert.True(s.MmiFactor is { } f && f > 0 && f <= 1, $"step {s.Step}: factor {s.MmiFactor}");
            // Loss = Tacotron total + 0.5 · mmi.
            var tacotron = s.MelLoss + s.MelPostnetLoss + s.GateLoss + s.GuidedAttentionWeight * s.GuidedAttentionLoss;
            Assert.Equal(tacotron + 0.5 * s.MmiLoss!.Value, s.Loss, 4);
        });
        var checkpoint = CheckpointFile.Read(run.CheckpointPath(10));
        Assert.NotNull(checkpoint.Section(MmiTraining.Section));
        Assert.NotNull(checkpoint.Section(MmiTraining.OptimizerSection));
        var json = System.Text.Json.JsonSerializer.Serialize(sink.Steps[0], RunJson.Options);
        Assert.Contains("\"mmi_loss\":", json);
    }

    [Fact]
    public void Run_MmiOff_NoLossNoFactorNoSectionsAndKeyOmitted()
    {
        var (t, sink, run) = Create(TrainerFixture.Config());
        using (t)
        {
            t.Start(resume: false);
            t.Run(5, CancellationToken.None);
            Assert.Null(t.Mmi);
        }
        Assert.All(sink.Steps, s => { Assert.Null(s.MmiLoss); Assert.Null(s.MmiFactor); });
        Assert.Null(CheckpointFile.Read(run.CheckpointPath(5)).Section(MmiTraining.Section));
        Assert.DoesNotContain("mmi", System.Text.Json.JsonSerializer.Serialize(sink.Steps[0], RunJson.Options));
    }

    [Fact]
    public void Run_NaNInMmiLoss_StepSkippedAndNoWeightMoves()
    {
        var (t, sink, _) = Create(Mmi(c => c with { Faults = new FaultOptions { NanLossAtStep = 4, NanLossComponent = "mmi" } }));
        using (t)
        {
            t.Start(resume: false);
            t.Run(3, CancellationToken.None);
            var model = Snapshot(t.Model);
            var recognizer = Snapshot(t.Mmi!.Recognizer);
            t.Run(4, CancellationToken.None);
            Assert.Equal(model, Snapshot(t.Model));
            Assert.Equal(recognizer, Snapshot(t.Mmi.Recognizer));
            t.Run(5, CancellationToken.None);
            Assert.NotEqual(model, Snapshot(t.Model));
            Assert.NotEqual(recognizer, Snapshot(t.Mmi.Recognizer));
        }
        var nan = sink.Steps.Single(s => s.Step == 4);
        Assert.True(nan.Skipped);
        Assert.True(double.IsNaN(nan.MmiLoss!.Value));
        Assert.True(double.IsFinite(nan.MelLoss));
        var skip = sink.Events.Single(e => e.Code == "SkipStep");
        Assert.Contains("mmi=NaN", skip.Data!["evidence"]!.GetValue<string>());
    }

    [Fact]
    public void Run_SafeModeEnterAndStepDown_SwitchMmiOffAndBackOn()
    {
        // A NaN storm in the gate loss: 4 skips in the window → rollback and safe mode (MMI off); 10 stable steps later
        // the level steps down to 0 (MMI on again).
        var config = Mmi(c => c with
        {
            Faults = new FaultOptions { NanLossAtStep = 4, NanLossSteps = 4, NanLossComponent = "gate" },
            Recovery = c.Recovery with { StableStepsToStepDown = 10 },
        });
        var (t, sink, _) = Create(config);
        var recognizerMoved = new List<bool>();
        using (t)
        {
            t.Start(resume: false);
            for (int step = 1; step <= 30; step++)
            {
                var before = Snapshot(t.Mmi!.Recognizer);
                t.Run(step, CancellationToken.None);
                recognizerMoved.Add(!Snapshot(t.Mmi.Recognizer).Zip(before).All(p => p.First.SequenceEqual(p.Second)));
            }
        }

        var enter = sink.Events.Single(e => e.Code == "SafeModeEnter");
        var down = sink.Events.Single(e => e.Code == "SafeModeStepDown");
        Assert.Contains("MMI off", enter.Message);
        Assert.True(enter.Data!["before"]!["mmi"]!.GetValue<bool>());
        Assert.False(enter.Data!["after"]!["mmi"]!.GetValue<bool>());
        Assert.Contains("MMI back on", down.Message);
        Assert.False(down.Data!["before"]!["mmi"]!.GetValue<bool>());
        Assert.True(down.Data!["after"]!["mmi"]!.GetValue<bool>());
        Assert.True(down.Step > enter.Step);

        // The computation follows the knob: a step computes the MMI loss exactly when the previous step left the run
        // at level 0, and the recogniser moves exactly on those steps that were not skipped.
        var steps = sink.Steps.OrderBy(s => s.Step).ToList();
        Assert.Equal(30, steps.Count);
        Assert.NotNull(steps[0].MmiLoss);
        for (int i = 1; i < steps.Count; i++)
        {
            bool on = steps[i - 1].SafeModeLevel == 0;
            Assert.True(on == steps[i].MmiLoss.HasValue, $"step {steps[i].Step}: level before {steps[i - 1].SafeModeLevel}, mmi {steps[i].MmiLoss}");
            Assert.Equal(on && !steps[i].Skipped, recognizerMoved[i]);
        }
        Assert.Contains(steps, s => s.Step > enter.Step && s.Step <= down.Step && s.MmiLoss is null);
        Assert.Contains(steps, s => s.Step > down.Step && s.MmiLoss is not null);
    }

    [Fact]
    public void Resume_MmiCheckpoint_ReproducesUninterruptedLosses()
    {
        var config = Mmi();
        var (a, sinkA, _) = Create(config);
        using (a) { a.Start(resume: false); a.Run(10, CancellationToken.None); }

        var dir = TrainerFixture.NewRunDir();
        var (b, _, _) = Create(config, dir);
        using (b) { b.Start(resume: false); b.Run(5, CancellationToken.None); }
        var (c, sinkC, _) = Create(config, dir);
        using (c) { c.Start(resume: true); c.Run(10, CancellationToken.None); }

        var expected = sinkA.Steps.Where(s => s.Step > 5).ToArray();
        var actual = sinkC.Steps.ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Loss, actual[i].Loss, 5);
            Assert.Equal(expected[i].MmiLoss!.Value, actual[i].MmiLoss!.Value, 5);
        }
    }

    [Fact]
    public void ExportAndImport_MmiCheckpoint_RecogniserLeftOutAndAddedAfresh()
    {
        var (t, _, run) = Create(Mmi());
        using (t) { t.Start(resume: false); t.Run(5, CancellationToken.None); }
        var source = run.CheckpointPath(5);
        var dir = _trainers.Track(TrainerFixture.NewRunDir());

        // Export: the Tacotron 2 keys only, as without MMI.
        var exported = CheckpointExporter.Export(source, Path.Combine(dir, "nvidia.pt"));
        using (var plain = new Tacotron2("tacotron2", TrainerFixture.Config().Model))
            Assert.Equal(plain.state_dict().Count, exported.Tensors);
        using (var model = CheckpointFile.Read(source).CreateModel())
            Assert.DoesNotContain(model.state_dict().Keys, k => k.StartsWith("mmi", StringComparison.Ordinal));

        // Import: a checkpoint without MMI state; a run with MMI starts from it with a fresh recogniser.
        var imported = CheckpointImporter.Import(exported.Path, Path.Combine(dir, "imported.ckpt"));
        Assert.Null(CheckpointFile.Read(imported.Path).Section(MmiTraining.Section));
        var (resumed, sink, _) = Create(Mmi());
        using (resumed)
        {
            resumed.Start(resume: false, checkpoint: imported.Path);
            resumed.Run(resumed.Step + 3, CancellationToken.None);
        }
        Assert.Contains(sink.Lines, l => l.Contains("has no MMI recogniser", StringComparison.Ordinal));
        Assert.Equal(3, sink.Steps.Count);
        Assert.All(sink.Steps, s => Assert.True(s.MmiLoss is { } m && double.IsFinite(m)));
    }

    [Fact]
    public void Run_MmiManySteps_LiveTensorCountStaysFlat()
    {
        var (t, _, _) = Create(Mmi(c => c with { Training = c.Training with { CheckpointEverySteps = 0, AlignmentEverySteps = 10 } }));
        using (t)
        {
            t.Start(resume: false);
            t.Run(20, CancellationToken.None);
            long after20 = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            t.Run(120, CancellationToken.None);
            long after120 = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            Assert.InRange(after120 - after20, -5, 5);
        }
    }

    public void Dispose() => _trainers.Dispose();
}
