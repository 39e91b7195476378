using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Commands;

/// <summary>
/// Output of Get-TacotronRun, Start-TacotronTraining -Detached and Stop-TacotronTraining -PassThru: one run at a
/// glance. The fields are <see cref="RunSummary"/>'s (one definition); this type gives the pipeline its own type name
/// for the format views.
/// </summary>
public sealed record TacotronRunInfo : RunSummary
{
    /// <summary>An empty run object.</summary>
    public TacotronRunInfo()
    {
    }

    /// <summary>The run object of <paramref name="summary"/>.</summary>
    public TacotronRunInfo(RunSummary summary)
        : base(summary)
    {
    }
}
