using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Commands.Engine;

/// <summary>Builds the pipeline object of a run from its summary.</summary>
internal static class RunInfoFactory
{
    /// <summary>The <see cref="TacotronRunInfo"/> of a run directory.</summary>
    public static TacotronRunInfo Read(RunDirectory run) => new(RunSummary.Read(run));
}
