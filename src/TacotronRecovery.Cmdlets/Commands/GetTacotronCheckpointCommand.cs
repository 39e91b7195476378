using System.Management.Automation;
using TacotronRecovery.Core.Checkpoints;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Commands.Engine;

namespace TacotronRecovery.Commands;

/// <summary>
/// <para type="synopsis">Lists a run's checkpoints with their health at save, and verifies their files.</para>
/// <para type="description">Reads checkpoints/manifest.json of a run. -Good keeps checkpoints saved with finite weights
/// and a healthy run; -Verify checks each file's size and SHA-256 against the manifest (Verified, Missing, Truncated,
/// SizeMismatch, HashMismatch) and warns about each one that fails; -Latest emits only the newest, and with -Verify
/// the newest that verifies, so a corrupt newest checkpoint falls back to an older one. .ckpt files the manifest does
/// not know are listed as NotInManifest. A corrupt manifest is an error (ManifestCorrupt).</para>
/// <example><code>Get-TacotronCheckpoint -Run voice</code><para>All checkpoints of the run.</para></example>
/// <example><code>Get-TacotronCheckpoint -Run voice -Good -Latest -Verify</code><para>The restore target a rollback would use.</para></example>
/// <example><code>Get-TacotronCheckpoint -Run voice -Verify | Where-Object Verified -ne 'Verified'</code><para>Find damaged checkpoints.</para></example>
/// </summary>
[Cmdlet(VerbsCommon.Get, "TacotronCheckpoint")]
[OutputType(typeof(CheckpointInfo))]
public sealed class GetTacotronCheckpointCommand : PSCmdlet
{
    /// <summary>
    /// <para type="description">Run name or run directory path.</para>
    /// </summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completers.RunCompleter))]
    public string Run { get; set; } = "";

    /// <summary>
    /// <para type="description">Folder holding run directories. Default: $env:TACOTRON_RUNS, else ./runs.</para>
    /// </summary>
    [Parameter]
    public string? RunsRoot { get; set; }

    /// <summary>
    /// <para type="description">Only checkpoints marked Good (finite weights, healthy at save).</para>
    /// </summary>
    [Parameter]
    public SwitchParameter Good { get; set; }

    /// <summary>
    /// <para type="description">Only the newest checkpoint (with -Verify: the newest one that verifies).</para>
    /// </summary>
    [Parameter]
    public SwitchParameter Latest { get; set; }

    /// <summary>
    /// <para type="description">Check each file's size and SHA-256 against the manifest.</para>
    /// </summary>
    [Parameter]
    public SwitchParameter Verify { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        if (!this.TryResolveRun(Run, RunsRoot, out var dir)) return;

        IReadOnlyList<CheckpointListing> items, rejected;
        try
        {
            items = CheckpointCatalog.List(dir, Good, Latest, Verify, out rejected);
        }
        catch (RunDataException e)
        {
            WriteError(new ErrorRecord(e, e.ErrorId, ErrorCategory.InvalidData, e.Target));
            return;
        }

        foreach (var r in rejected)
            WriteWarning($"{r.Verification?.Message ?? r.Path} Skipped; looking at an older checkpoint.");
        if (Latest && items.Count == 0)
            WriteWarning(Verify && rejected.Count > 0
                ? $"Run '{dir.Name}' has no checkpoint that verifies."
                : $"Run '{dir.Name}' has no {(Good ? "good " : "")}checkpoint.");
        foreach (var c in items)
        {
            if (!Latest && c.Verification is { IsVerified: false } v) WriteWarning(v.Message);
            var e = c.Entry;
            WriteObject(new CheckpointInfo
            {
                Run = c.Run,
                Path = c.Path,
                Step = c.Step,
                Good = e?.Good ?? false,
                WellAligned = e?.WellAligned ?? false,
                Best = e?.Best ?? false,
                Sha256 = e?.Sha256,
                Verified = c.Verified,
                Loss = e?.Loss,
                Diagonality = e?.Diagonality,
                GateAccuracy = e?.GateAccuracy,
                SizeBytes = e?.SizeBytes,
                Created = e?.Created,
            });
        }
    }
}
