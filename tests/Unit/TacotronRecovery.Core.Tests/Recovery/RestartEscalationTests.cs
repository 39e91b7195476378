using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Recovery;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Tests.Recovery;

/// <summary>
/// The supervisor's use of the controller: each engine death is one call on a controller rebuilt from the run's
/// recovery-state.json, whose result is written back before the next engine starts. Engines that die before they save
/// a checkpoint therefore escalate one level per death and spend the budget, ending in exactly one Exhausted.
/// </summary>
public sealed class RestartEscalationTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "restart-escalation-" + Guid.NewGuid().ToString("N"));

    private static readonly TrainingOptions Training = new() { LearningRate = 1e-3, GradClipThreshold = 1.0, BatchSize = 16 };

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private string StateFile => Path.Combine(_dir, "recovery-state.json");

    // What SuperviseVerb does per death: read the persisted state, ask, write back.
    private RecoveryDecision Death(RecoveryOptions r, string reason, int step)
    {
        var c = new RecoveryController(r, Training, new GuidedAttentionOptions(), RecoveryStateStore.TryRead(StateFile));
        var d = Assert.Single(c.OnEngineRestart(reason, step));
        RecoveryStateStore.Write(StateFile, c.State);
        return d;
    }

    [Fact]
    public void CrashLoop_EscalatesOneLevelPerDeath_ThenOneExhausted()
    {
        var r = new RecoveryOptions { MaxRestarts = 3 };
        // The first engine trained a while and mirrored its state (level 0, no restarts) to the run directory.
        var engine = new RecoveryController(r, Training, new GuidedAttentionOptions());
        for (int s = 1; s <= 20; s++) engine.OnStep(new StepObservation(s, 0.4, 0.35, 0.05, 0.2, 1.0, 0.8), 1e-3);
        RecoveryStateStore.Write(StateFile, engine.State);

        // Every restarted engine dies at step 5, before it can save a checkpoint: nothing but the supervisor writes the file.
        var decisions = Enumerable.Range(0, 5).Select(_ => Death(r, "exit code 134 (SIGABRT: a native abort)", 5)).ToList();

        Assert.Equal([RecoveryAction.Restart, RecoveryAction.Restart, RecoveryAction.Restart, RecoveryAction.Exhausted, RecoveryAction.None],
            decisions.Select(d => d.Action));
        Assert.Equal([1, 2, 3], decisions.Take(3).Select(d => d.SafeModeLevel));
        Assert.Contains("restarts=0→1/3 level=0→1", decisions[0].Evidence);
        Assert.Contains("restarts=1→2/3 level=1→2", decisions[1].Evidence);
        Assert.Contains("restarts=2→3/3 level=2→3", decisions[2].Evidence);
        Assert.Contains("restart 2 of 3", decisions[1].Reason);
        Assert.Single(decisions, d => d.Action == RecoveryAction.Exhausted);
        Assert.Contains("died 4 times", decisions[3].Reason);
        Assert.All(decisions, d => Assert.Equal(5, d.Step));
        var saved = RecoveryStateStore.TryRead(StateFile)!;
        Assert.True(saved.Exhausted);
        Assert.Equal(3, saved.Restarts);
        Assert.Equal(3, saved.SafeModeLevel);
    }

    [Fact]
    public void Restart_BecomesOneEvent_KindRestart_CriticalWithTarget()
    {
        var d = Death(new RecoveryOptions(), "exit code 137 (SIGKILL)", 42);
        var e = d.ToEvent("voice", DateTimeOffset.UnixEpoch);
        Assert.Equal(("Restart", "Restart", EventSeverity.Critical, 42), (e.Kind, e.Code, e.Severity, e.Step));
        Assert.Equal("LastGood", e.Data!["target"]!.GetValue<string>());
    }

    [Fact]
    public void ResetRestartBudget_OperatorStartGivesAFreshBudget_KeepsTheLevel()
    {
        var r = new RecoveryOptions { MaxRestarts = 1 };
        Death(r, "killed", 3);
        var c = new RecoveryController(r, Training, new GuidedAttentionOptions(), RecoveryStateStore.TryRead(StateFile));
        c.ResetRestartBudget();
        Assert.Equal(0, c.State.Restarts);
        Assert.Equal(1, c.SafeModeLevel);
        Assert.Equal(RecoveryAction.Restart, Assert.Single(c.OnEngineRestart("killed")).Action);
    }

    [Fact]
    public void StateStore_MissingIsNull_CorruptNamesTheFile()
    {
        Assert.Null(RecoveryStateStore.TryRead(StateFile));
        Directory.CreateDirectory(_dir);
        File.WriteAllText(StateFile, "{ not json");
        var e = Assert.Throws<RunDataException>(() => RecoveryStateStore.TryRead(StateFile));
        Assert.Equal("RecoveryStateCorrupt", e.ErrorId);
        Assert.Contains(StateFile, e.Message);
    }

    [Fact]
    public void StateStore_RoundTripsSnakeCase()
    {
        var s = new RecoveryState { Restarts = 2, SafeModeLevel = 2, BatchSize = 8, SkipTicks = [3, 4] };
        RecoveryStateStore.Write(StateFile, s);
        Assert.Contains("\"safe_mode_level\":2", File.ReadAllText(StateFile));
        var back = RecoveryStateStore.TryRead(StateFile)!;
        Assert.Equal((2, 2, 8), (back.Restarts, back.SafeModeLevel, back.BatchSize));
        Assert.Equal([3L, 4L], back.SkipTicks);
    }
}
