using System.Text.RegularExpressions;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Checkpoints;

/// <summary>One checkpoint of a run as listed by Get-TacotronCheckpoint.</summary>
public sealed record CheckpointListing
{
    /// <summary>Run name.</summary>
    public string Run { get; init; } = "";
    /// <summary>Full path of the checkpoint file.</summary>
    public string Path { get; init; } = "";
    /// <summary>Step.</summary>
    public int Step { get; init; }
    /// <summary>The manifest entry; null for a .ckpt file the manifest does not know.</summary>
    public CheckpointEntry? Entry { get; init; }
    /// <summary>Verified, Missing, Truncated, SizeMismatch, HashMismatch, NotChecked, or NotInManifest.</summary>
    public string Verified { get; init; } = "NotChecked";
    /// <summary>The verification, when one ran.</summary>
    public CheckpointVerification? Verification { get; init; }
}

/// <summary>Lists a run's checkpoints from its manifest (plus .ckpt files the manifest does not know).</summary>
public static partial class CheckpointCatalog
{
    /// <summary>
    /// Checkpoints of <paramref name="run"/>, oldest step first. <paramref name="goodOnly"/> keeps Good entries;
    /// <paramref name="verify"/> checks size and SHA-256; <paramref name="latest"/> returns only the newest — with
    /// <paramref name="verify"/>, the newest that verifies (the rejected newer ones are returned in
    /// <paramref name="rejected"/>). A corrupt manifest throws <see cref="RunDataException"/> ManifestCorrupt.
    /// </summary>
    public static IReadOnlyList<CheckpointListing> List(RunDirectory run, bool goodOnly, bool latest, bool verify,
        out IReadOnlyList<CheckpointListing> rejected)
    {
        ArgumentNullException.ThrowIfNull(run);
        var manifest = CheckpointManifest.Load(run.ManifestFile);
        var known = manifest.Entries.Select(e => e.File).ToHashSet(StringComparer.Ordinal);
        var items = manifest.Entries
            .Where(e => !goodOnly || e.Good)
            .Select(e => new CheckpointListing { Run = run.Name, Path = manifest.PathOf(e), Step = e.Step, Entry = e })
            .ToList();
        if (!goodOnly && Directory.Exists(run.CheckpointsDir))
        {
            foreach (var f in Directory.EnumerateFiles(run.CheckpointsDir, "*.ckpt"))
            {
                var name = System.IO.Path.GetFileName(f);
                if (known.Contains(name)) continue;
                var m = StepPattern().Match(name);
                items.Add(new CheckpointListing
                {
                    Run = run.Name, Path = f, Step = m.Success ? int.Parse(m.Groups[1].Value) : 0, Verified = "NotInManifest",
                });
            }
            items.Sort((a, b) => a.Step.CompareTo(b.Step));
        }

        var rejectedList = new List<CheckpointListing>();
        rejected = rejectedList;
        if (!latest) return verify ? items.Select(Check).ToList() : items;
        for (int i = items.Count - 1; i >= 0; i--)
        {
            if (!verify) return new[] { items[i] };
            var c = Check(items[i]);
            if (c.Verified == nameof(CheckpointStatus.Verified)) return new[] { c };
            rejectedList.Add(c);
        }
        return Array.Empty<CheckpointListing>();
    }

    private static CheckpointListing Check(CheckpointListing item)
    {
        if (item.Entry is null) return item;
        var v = CheckpointVerifier.Verify(item.Path, item.Entry);
        return item with { Verification = v, Verified = v.Status.ToString() };
    }

    [GeneratedRegex(@"(\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex StepPattern();
}
