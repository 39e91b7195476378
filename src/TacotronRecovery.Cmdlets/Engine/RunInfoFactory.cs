using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Commands.Engine;

/// <summary>Builds the pipeline object of a run from its summary.</summary>
internal static class RunInfoFactory
{
    /// <summary>The <see cref="TacotronRunInfo"/> of a run directory.</summary>
    public static TacotronRunInfo Read(RunDirectory run) => From(RunSummary.Read(run));

    /// <summary>The <see cref="TacotronRunInfo"/> of a summary.</summary>
    public static TacotronRunInfo From(RunSummary s) => new()
    {
        Run = s.Run, Path = s.Path, Status = s.Status, Pid = s.Pid, Step = s.Step, Started = s.Started, Updated = s.Updated,
        LastLoss = s.LastLoss, LastDiagonality = s.LastDiagonality, Checkpoints = s.Checkpoints, Device = s.Device,
        Host = s.Host, Message = s.Message,
    };
}
