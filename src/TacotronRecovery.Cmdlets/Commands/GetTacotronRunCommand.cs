using TacotronRecovery.Commands.Engine;
using System.Management.Automation;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Commands;

/// <summary>
/// <para type="synopsis">Shows runs: status (checked against the engine process), step, last loss and Diagonality, checkpoints.</para>
/// <para type="description">Reads run.json, the last lines of metrics.jsonl and alignment.jsonl, and the checkpoint
/// manifest of one run (-Run) or of every run under the runs root. A run whose run.json says Running while its
/// engine process is gone is reported as 'Failed (engine not running)'. A corrupt run.json is an error
/// (RunStateCorrupt) for that run; the other runs are still listed.</para>
/// <example><code>Get-TacotronRun</code><para>All runs under $env:TACOTRON_RUNS or ./runs.</para></example>
/// <example><code>Get-TacotronRun -Run voice | Get-TacotronCheckpoint -Good -Latest</code><para>The newest good checkpoint of a run.</para></example>
/// </summary>
[Cmdlet(VerbsCommon.Get, "TacotronRun")]
[OutputType(typeof(TacotronRunInfo))]
public sealed class GetTacotronRunCommand : PSCmdlet
{
    /// <summary>
    /// <para type="description">Run name or run directory path. Omitted: every run under -RunsRoot.</para>
    /// </summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completers.RunCompleter))]
    public string? Run { get; set; }

    /// <summary>
    /// <para type="description">Folder holding run directories. Default: $env:TACOTRON_RUNS, else ./runs.</para>
    /// </summary>
    [Parameter]
    public string? RunsRoot { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        IReadOnlyList<RunDirectory> runs;
        if (string.IsNullOrEmpty(Run))
        {
            var root = this.RunsRootPath(RunsRoot);
            if (!Directory.Exists(root)) WriteWarning($"The runs root '{root}' does not exist.");
            runs = RunLocator.ListRuns(root);
        }
        else
        {
            if (!this.TryResolveRun(Run, RunsRoot, out var one)) return;
            runs = new[] { one };
        }

        foreach (var dir in runs)
        {
            RunSummary s;
            try
            {
                s = RunSummary.Read(dir);
            }
            catch (RunDataException e)
            {
                WriteError(new ErrorRecord(e, e.ErrorId, ErrorCategory.InvalidData, e.Target));
                continue;
            }
            catch (IOException e)
            {
                WriteError(new ErrorRecord(e, "RunUnreadable", ErrorCategory.ReadError, dir.Path));
                continue;
            }
            WriteObject(new TacotronRunInfo(s));
        }
    }
}
