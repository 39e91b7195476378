using TacotronRecovery.Core.Checkpoints;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Engine.Checkpoints;

/// <summary>
/// The engine's view of a run's checkpoints: records each saved file in the manifest (hash, step, config hash,
/// health at save), prunes to keep-N (never the newest good, newest well-aligned or best), and selects rollback
/// targets that verify (a corrupt newest checkpoint falls back to an older good one).
/// </summary>
public sealed class CheckpointStore
{
    private readonly RunDirectory _run;
    private readonly string _configHash;
    private readonly int _keep;
    private readonly double _wellAligned;

    /// <summary>Creates the store of a run.</summary>
    public CheckpointStore(RunDirectory run, TacotronConfig config)
    {
        _run = run;
        _configHash = ConfigHash.Compute(ConfigWriter.ToRedactedYaml(config));
        _keep = Math.Max(1, config.Training.KeepCheckpoints);
        _wellAligned = config.Recovery.ExitDiagonality;
    }

    /// <summary>
    /// Call before writing <paramref name="path"/>: removes its manifest entry when it has one (a resumed engine replays
    /// steps, and writes step-N.ckpt again over the abandoned timeline's file). The manifest then never describes a file
    /// that is being replaced: a kill after the new file's rename and before <see cref="Record"/> leaves a file the
    /// manifest does not list, never an entry whose size and hash no longer match (found by the kill -9 soak).
    /// </summary>
    public void Forget(string path)
    {
        var manifest = CheckpointManifest.Load(_run.ManifestFile, _wellAligned);
        if (manifest.Remove(Path.GetFileName(path))) manifest.Save();
    }

    /// <summary>
    /// Adds a just-written checkpoint to the manifest and prunes old ones, never those in <paramref name="pending"/>
    /// (paths of checkpoints waiting to be confirmed Good: with checkpoints more frequent than the confirmation window,
    /// keep-N deleted each before its confirmation, so no checkpoint after step 0 ever became Good and every restart went
    /// back to step 0).
    /// </summary>
    public CheckpointEntry Record(string path, int step, bool good, double loss, double? diagonality, double? gateAccuracy,
        IEnumerable<string>? pending = null)
    {
        var manifest = CheckpointManifest.Load(_run.ManifestFile, _wellAligned);
        var entry = manifest.AddOrUpdate(CheckpointEntry.ForFile(path, step, _configHash, loss, diagonality, gateAccuracy, good));
        manifest.Save();
        manifest.Prune(_keep, pending?.Select(Path.GetFileName).OfType<string>());
        return entry;
    }

    /// <summary>The newest good checkpoint that verifies; <paramref name="rejected"/> says which newer ones were refused and why.</summary>
    public CheckpointSelection? SelectLastGood(out IReadOnlyList<string> rejected) =>
        Select(CheckpointSelector.SelectLastGood, out rejected);

    /// <summary>The newest well-aligned checkpoint that verifies.</summary>
    public CheckpointSelection? SelectLastWellAligned(out IReadOnlyList<string> rejected) =>
        Select(CheckpointSelector.SelectLastWellAligned, out rejected);

    private CheckpointSelection? Select(Func<CheckpointManifest, CheckpointSelection?> select, out IReadOnlyList<string> rejected)
    {
        var selection = select(CheckpointManifest.Load(_run.ManifestFile, _wellAligned));
        rejected = selection?.Rejected.Select(r => r.Message).ToArray() ?? Array.Empty<string>();
        return selection;
    }
}
