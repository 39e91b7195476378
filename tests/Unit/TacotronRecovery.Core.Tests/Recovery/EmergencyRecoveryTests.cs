using TacotronRecovery.Core.Alerts;
using TacotronRecovery.Core.Contract;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Recovery;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Core.Tests.Runs;

namespace TacotronRecovery.Core.Tests.Recovery;

public class EmergencyRecoveryTests
{
    [Fact]
    public void IsPyTorchFile_ZipOrPickle()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("a.pt"), [(byte)'P', (byte)'K', 3, 4]);
        File.WriteAllBytes(dir.File("b.pt"), [0x80, 2, 0, 0]);
        File.WriteAllBytes(dir.File("c.ckpt"), [(byte)'T', (byte)'R', 0, 0]);
        File.WriteAllBytes(dir.File("d"), [0x80]);
        Assert.True(EmergencyRecovery.IsPyTorchFile(dir.File("a.pt")));
        Assert.True(EmergencyRecovery.IsPyTorchFile(dir.File("b.pt")));
        Assert.False(EmergencyRecovery.IsPyTorchFile(dir.File("c.ckpt")));
        Assert.False(EmergencyRecovery.IsPyTorchFile(dir.File("d")));
    }

    [Fact]
    public void FindDemo_HereOrAbove_NullOutsideAClone()
    {
        using var dir = new TempDir();
        var sub = Directory.CreateDirectory(dir.File(Path.Combine("a", "b"))).FullName;
        Assert.Null(EmergencyRecovery.FindDemo(sub));
        Directory.CreateDirectory(dir.File("examples"));
        File.WriteAllText(dir.File(Path.Combine("examples", "demo.ps1")), "");
        Assert.Equal((dir.File(Path.Combine("examples", "demo.ps1")), dir.Path), EmergencyRecovery.FindDemo(sub));
    }

    [Fact]
    public void ResolveRun_CheckpointInARunBelongsToIt_ElseANewRunNamedAfterIt()
    {
        using var dir = new TempDir();
        var root = dir.File("runs");
        var run = new RunDirectory(Path.Combine(root, "voice")).Create();
        File.WriteAllText(run.ConfigFile, "name: voice\n");
        var inRun = run.CheckpointPath(500);
        Assert.Equal(run.Path, EmergencyRecovery.ResolveRun(null, inRun, root, dir.Path).Path);
        var loose = EmergencyRecovery.ResolveRun(null, dir.File("checkpoint_42000.pt"), root, dir.Path);
        Assert.Equal(Path.Combine(root, "recovery-checkpoint_42000"), loose.Path);
        Assert.True(Directory.Exists(loose.CheckpointsDir));
        Assert.Equal(Path.Combine(root, "named"), EmergencyRecovery.ResolveRun("named", inRun, root, dir.Path).Path);
    }

    [Fact]
    public void StepAndTiming_FromFileNameAndMedianStepTime()
    {
        Assert.Equal(42000, EmergencyRecovery.StepOf("/x/checkpoint_42000.pt"));
        Assert.Equal(0, EmergencyRecovery.StepOf("/x/best.ckpt"));
        using var dir = new TempDir();
        var run = new RunDirectory(dir.File("r")).Create();
        Assert.Equal(1.0, EmergencyRecovery.SecondsPerStep(run));
        using (var w = new JsonLinesWriter<StepMetrics>(run.MetricsFile))
            foreach (var s in new[] { 3.0, 1.0, 2.0, double.NaN }) w.Append(new StepMetrics { Step = 1, StepSeconds = s });
        Assert.Equal(2.0, EmergencyRecovery.SecondsPerStep(run));
        Assert.Equal(0, EmergencyRecovery.StartStep(run, null));
        Assert.Equal(7, EmergencyRecovery.StartStep(run, "/x/step-000007.ckpt"));
        Assert.Equal(9, EmergencyRecovery.StartStep(run, "/x/step-000007.ckpt", importedStep: 9));
    }

    [Fact]
    public void EngineArguments_SuperviseInEmergencyModeWithTheStepBudget()
    {
        var run = new RunDirectory("/runs/voice");
        Assert.Equal(["supervise", "--run", run.Path, "--runs-root", "/runs", "--emergency", "Invoke-EmergencyRecovery", "--max-steps", "1300", "--config", "/c.yaml", "--checkpoint", "/k.ckpt"],
            EmergencyRecovery.EngineArguments(run, "/runs", 300, 1000, "/c.yaml", null, "/k.ckpt"));
    }

    [Fact]
    public void Monitor_CountsDecisions_TakesTheExhaustionDiagnosis_ResultFailed()
    {
        using var dir = new TempDir();
        var run = new RunDirectory(dir.File("r")).Create();
        var plan = RecoveryPlan.Create(1.0, startStep: 100, run: "r");
        var monitor = new RecoveryMonitor(plan, run, 100, 500, earlyStop: true, DateTimeOffset.UtcNow);
        var t0 = DateTime.UtcNow;
        Assert.True(monitor.Observe(new TrainingEvent { Kind = EventKinds.Recovery, Code = EventCodes.Rollback, Severity = EventSeverity.Critical }, t0).Write);
        Assert.False(monitor.Observe(new TrainingEvent { Kind = EventKinds.Checkpoint, Code = EventCodes.CheckpointSaved, Severity = EventSeverity.Info }, t0).Write);
        monitor.Observe(new TrainingEvent { Kind = EventKinds.Restart, Code = "RestartBudgetSpent", Severity = EventSeverity.Critical, Message = "budget spent" }, t0);
        var progress = monitor.Observe(new StepMetrics { Step = 350, Loss = 1 }, t0).Progress;
        Assert.Equal(50, progress!.Value.Percent);
        var result = monitor.Result(null);
        Assert.Equal((RecoveryOutcome.Failed, 2), (result.Outcome, result.Decisions));
        Assert.StartsWith("budget spent. Done not reached (reached no stage)", result.Diagnosis);
        Assert.False(monitor.StopRequested);
        Assert.StartsWith("Step budget of 500 spent. Done not reached", new RecoveryMonitor(plan, run, 100, 500, true, DateTimeOffset.UtcNow).Result(null).Diagnosis);
    }

    [Fact]
    public void Alerts_StartListsTheStages_ResultIsCriticalWhenFailed()
    {
        var plan = RecoveryPlan.Create(1.0, startStep: 100, run: "r");
        var start = EmergencyRecovery.StartedAlert(plan, "r", 100);
        Assert.Equal((AlertKind.RecoveryStarted, plan.Stages.Count), (start.Kind, start.Lines.Count));
        var failed = EmergencyRecovery.ResultAlert(new RecoveryResult { Outcome = RecoveryOutcome.Failed, Steps = 10, Diagnosis = "why" }, "r", 100);
        Assert.Equal((AlertKind.Critical, 110, "r: recovery failed"), (failed.Kind, failed.Step, failed.Title));
        Assert.Contains("why", failed.Lines);
    }
}
