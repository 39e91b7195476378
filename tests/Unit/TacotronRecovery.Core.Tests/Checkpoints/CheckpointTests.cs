using TacotronRecovery.Core.Checkpoints;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Core.Tests.Runs;

namespace TacotronRecovery.Core.Tests.Checkpoints;

public class CheckpointManifestTests
{
    private static CheckpointEntry E(int step, bool good = true, double loss = 1.0, double? diag = null) =>
        new() { File = $"step-{step:D6}.ckpt", Step = step, Good = good, Loss = loss, Diagonality = diag, Sha256 = "00", SizeBytes = 1 };

    [Fact]
    public void AddOrUpdate_Entries_SetsWellAlignedAndBestAndSortsByStep()
    {
        using var dir = new TempDir();
        var m = new CheckpointManifest(dir.File("manifest.json"), wellAlignedThreshold: 0.6);
        m.AddOrUpdate(E(300, loss: 0.9, diag: 0.7));
        m.AddOrUpdate(E(100, loss: 0.5, diag: 0.59));
        m.AddOrUpdate(E(200, good: false, loss: 0.1, diag: 0.9));

        Assert.Equal(new[] { 100, 200, 300 }, m.Entries.Select(e => e.Step));
        Assert.Equal(new[] { false, false, true }, m.Entries.Select(e => e.WellAligned));
        Assert.Equal(new[] { true, false, false }, m.Entries.Select(e => e.Best)); // lowest loss among Good
        m.AddOrUpdate(E(300, loss: 0.2, diag: 0.7)); // same file again: replaced
        Assert.Equal(3, m.Entries.Count);
        Assert.Equal(300, m.Best!.Step);
    }

    [Fact]
    public void SaveLoad_Manifest_RoundTripsWithSnakeCase()
    {
        using var dir = new TempDir();
        var path = dir.File("manifest.json");
        var m = new CheckpointManifest(path);
        m.AddOrUpdate(E(500, loss: double.NaN, diag: 0.8) with { GateAccuracy = 0.9, ConfigHash = "abc", Created = RunsTestData.T0 });
        m.Save();

        var json = File.ReadAllText(path);
        var back = CheckpointManifest.Load(path);

        Assert.Contains("\"well_aligned_threshold\": 0.5", json);
        Assert.Contains("\"size_bytes\": 1", json);
        Assert.Contains("\"config_hash\": \"abc\"", json);
        Assert.Contains("\"loss\": \"NaN\"", json);
        Assert.Equal(m.Entries[0] with { Loss = 0 }, back.Entries[0] with { Loss = 0 });
        Assert.True(double.IsNaN(back.Entries[0].Loss));
        Assert.Null(back.Best);
    }

    [Fact]
    public void Load_MissingFile_IsEmpty()
    {
        using var dir = new TempDir();
        Assert.Empty(CheckpointManifest.Load(dir.File("manifest.json")).Entries);
    }

    [Fact]
    public void Load_CorruptJson_ThrowsManifestCorruptNamingFile()
    {
        using var dir = new TempDir();
        var path = dir.File("manifest.json");
        File.WriteAllText(path, "{\"version\":1,\"checkpoints\":[{\"file\":");
        var ex = Assert.Throws<RunDataException>(() => CheckpointManifest.Load(path));
        Assert.Equal("ManifestCorrupt", ex.ErrorId);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void Load_EntryWithPath_ThrowsManifestCorruptNamingTheEntry()
    {
        using var dir = new TempDir();
        var path = dir.File("manifest.json");
        File.WriteAllText(path, "{\"version\":1,\"checkpoints\":[{\"file\":\"../../etc/passwd\",\"step\":1}]}");
        var ex = Assert.Throws<RunDataException>(() => CheckpointManifest.Load(path));
        Assert.Contains("checkpoints[0].file '../../etc/passwd'", ex.Message);
    }

    [Fact]
    public void Load_WrongVersion_ThrowsManifestCorrupt()
    {
        using var dir = new TempDir();
        var path = dir.File("manifest.json");
        File.WriteAllText(path, "{\"version\":7,\"checkpoints\":[]}");
        Assert.Contains("unsupported version 7", Assert.Throws<RunDataException>(() => CheckpointManifest.Load(path)).Message);
    }

    [Fact]
    public void PlanPrune_KeepTwo_KeepsNewestTwoAndNewestGoodWellAlignedAndBest()
    {
        using var dir = new TempDir();
        var m = new CheckpointManifest(dir.File("manifest.json"));
        for (int s = 100; s <= 1000; s += 100)
        {
            bool good = s != 1000;
            double loss = s == 300 ? 0.1 : 1.0 + s / 1000.0;
            double? diag = s == 500 ? 0.8 : 0.2;
            m.AddOrUpdate(E(s, good, loss, diag));
        }
        Assert.Equal(300, m.Best!.Step);
        Assert.Equal(500, m.NewestWellAligned!.Step);
        Assert.Equal(900, m.NewestGood!.Step);

        var doomed = m.PlanPrune(keep: 1);
        Assert.Equal(new[] { 100, 200, 400, 600, 700, 800 }, doomed.Select(e => e.Step));
        Assert.Equal(new[] { 100, 200, 400, 600, 700, 800 }, m.PlanPrune(keep: 2).Select(e => e.Step));
        Assert.Equal(new[] { 100, 200, 400 }, m.PlanPrune(keep: 5).Select(e => e.Step));
    }

    [Fact]
    public void PlanPrune_PendingConfirmation_KeepsThem()
    {
        // Checkpoints waiting to be confirmed Good must outlive keep-N, or none is ever confirmed when they come faster
        // than the confirmation window (every restart then went back to step 0).
        using var dir = new TempDir();
        var m = new CheckpointManifest(dir.File("manifest.json"));
        m.AddOrUpdate(E(0, true, 2.0, 0.2));
        for (int s = 2; s <= 10; s += 2) m.AddOrUpdate(E(s, false, 1.0, 0.2));
        Assert.Equal(new[] { 2, 4, 6 }, m.PlanPrune(keep: 2).Select(e => e.Step));
        var pending = m.Entries.Where(e => e.Step is 4 or 6).Select(e => e.File);
        Assert.Equal(new[] { 2 }, m.PlanPrune(keep: 2, alsoKeep: pending).Select(e => e.Step));
    }

    [Fact]
    public void Prune_DeletesFilesAndSavesManifest()
    {
        using var dir = new TempDir();
        var m = new CheckpointManifest(dir.File("manifest.json"));
        foreach (var s in new[] { 1, 2, 3, 4 })
        {
            File.WriteAllText(dir.File($"step-{s:D6}.ckpt"), "x");
            m.AddOrUpdate(E(s, loss: 5 - s)); // newest is best and newest good
        }

        var removed = m.Prune(keep: 2);

        Assert.Equal(new[] { 1, 2 }, removed.Select(e => e.Step));
        Assert.False(File.Exists(dir.File("step-000001.ckpt")));
        Assert.False(File.Exists(dir.File("step-000002.ckpt")));
        Assert.True(File.Exists(dir.File("step-000003.ckpt")));
        Assert.Equal(new[] { 3, 4 }, CheckpointManifest.Load(dir.File("manifest.json")).Entries.Select(e => e.Step));
    }

    [Fact]
    public void PlanPrune_KeepZero_Throws()
    {
        using var dir = new TempDir();
        Assert.Throws<ArgumentOutOfRangeException>(() => new CheckpointManifest(dir.File("m.json")).PlanPrune(0));
    }
}

public class CheckpointVerifierTests
{
    private static (string Path, CheckpointEntry Entry) Make(TempDir dir, int step = 500)
    {
        var path = dir.File($"step-{step:D6}.ckpt");
        var bytes = Enumerable.Range(0, 10_000).Select(i => (byte)(i * 7)).ToArray();
        File.WriteAllBytes(path, bytes);
        return (path, CheckpointEntry.ForFile(path, step, "cfg", 1.0, 0.8, 0.9, good: true, new FixedTime(RunsTestData.T0)));
    }

    [Fact]
    public void ForFile_Checkpoint_RecordsSizeHashAndTime()
    {
        using var dir = new TempDir();
        var (path, e) = Make(dir);
        Assert.Equal(10_000, e.SizeBytes);
        Assert.Equal(64, e.Sha256.Length);
        Assert.Equal(RunsTestData.T0, e.Created);
        Assert.Equal("step-000500.ckpt", e.File);
        Assert.Equal(CheckpointStatus.Verified, CheckpointVerifier.Verify(path, e).Status);
    }

    [Fact]
    public void Verify_Truncated_DetectedWithSizes()
    {
        using var dir = new TempDir();
        var (path, e) = Make(dir);
        using (var fs = new FileStream(path, FileMode.Open)) fs.SetLength(4096);
        var v = CheckpointVerifier.Verify(path, e);
        Assert.Equal(CheckpointStatus.Truncated, v.Status);
        Assert.Contains("4096 of 10000 bytes", v.Message);
        Assert.Contains(path, v.Message);
    }

    [Fact]
    public void Verify_FlippedByte_HashMismatch()
    {
        using var dir = new TempDir();
        var (path, e) = Make(dir);
        var bytes = File.ReadAllBytes(path);
        bytes[5000] ^= 0x01;
        File.WriteAllBytes(path, bytes);
        var v = CheckpointVerifier.Verify(path, e);
        Assert.Equal(CheckpointStatus.HashMismatch, v.Status);
        Assert.Contains("must not be loaded", v.Message);
    }

    [Fact]
    public void Verify_MissingAndLonger_Detected()
    {
        using var dir = new TempDir();
        var (path, e) = Make(dir);
        File.AppendAllText(path, "extra");
        Assert.Equal(CheckpointStatus.SizeMismatch, CheckpointVerifier.Verify(path, e).Status);
        File.Delete(path);
        Assert.Equal(CheckpointStatus.Missing, CheckpointVerifier.Verify(path, e).Status);
    }
}

public class CheckpointSelectorTests
{
    private static CheckpointManifest Build(TempDir dir, params (int Step, bool Good, double Loss, double Diag)[] specs)
    {
        var m = new CheckpointManifest(dir.File("manifest.json"));
        foreach (var s in specs)
        {
            var path = dir.File($"step-{s.Step:D6}.ckpt");
            File.WriteAllBytes(path, BitConverter.GetBytes((long)s.Step * 31));
            m.AddOrUpdate(CheckpointEntry.ForFile(path, s.Step, "cfg", s.Loss, s.Diag, 0.9, s.Good));
        }
        m.Save();
        return m;
    }

    private static void Corrupt(TempDir dir, int step)
    {
        var path = dir.File($"step-{step:D6}.ckpt");
        var b = File.ReadAllBytes(path);
        b[0] ^= 0xFF;
        File.WriteAllBytes(path, b);
    }

    [Fact]
    public void SelectLastGood_CorruptNewest_FallsBackToOlderGood()
    {
        using var dir = new TempDir();
        var m = Build(dir, (100, true, 1.0, 0.1), (200, true, 0.9, 0.2), (300, false, 0.8, 0.3), (400, true, 0.7, 0.4));
        Corrupt(dir, 400);

        var sel = CheckpointSelector.SelectLastGood(m)!;

        Assert.Equal(200, sel.Entry.Step);
        Assert.Equal(dir.File("step-000200.ckpt"), sel.Path);
        Assert.Single(sel.Rejected);
        Assert.Equal(CheckpointStatus.HashMismatch, sel.Rejected[0].Status);
        Assert.Equal(400, sel.Rejected[0].Step);
    }

    [Fact]
    public void SelectLastGood_NoneVerifies_Null()
    {
        using var dir = new TempDir();
        var m = Build(dir, (100, true, 1.0, 0.1), (200, false, 1.0, 0.1));
        File.Delete(dir.File("step-000100.ckpt"));
        Assert.Null(CheckpointSelector.SelectLastGood(m));
        Assert.Equal(200, CheckpointSelector.SelectLatest(m)!.Entry.Step);
    }

    [Fact]
    public void SelectLastWellAligned_SkipsPoorlyAlignedAndCorrupt()
    {
        using var dir = new TempDir();
        var m = Build(dir, (100, true, 1.0, 0.7), (200, true, 0.9, 0.8), (300, true, 0.8, 0.3));
        Corrupt(dir, 200);
        var sel = CheckpointSelector.SelectLastWellAligned(m)!;
        Assert.Equal(100, sel.Entry.Step);
        Assert.Equal(200, sel.Rejected.Single().Step);
    }

    [Fact]
    public void SelectBest_CorruptBest_NextLowestLoss()
    {
        using var dir = new TempDir();
        var m = Build(dir, (100, true, 0.5, 0.1), (200, true, 0.2, 0.1), (300, true, 0.9, 0.1), (400, false, 0.01, 0.1));
        Assert.Equal(200, CheckpointSelector.SelectBest(m)!.Entry.Step);
        Corrupt(dir, 200);
        Assert.Equal(100, CheckpointSelector.SelectBest(m)!.Entry.Step);
    }

    [Fact]
    public void CatalogList_LatestVerify_WalksBackAndReportsRejected()
    {
        using var dir = new TempDir();
        var run = new RunDirectory(dir.Path);
        Directory.CreateDirectory(run.CheckpointsDir);
        var m = new CheckpointManifest(run.ManifestFile);
        foreach (var s in new[] { 100, 200 })
        {
            var p = run.CheckpointPath(s);
            File.WriteAllText(p, $"weights {s}");
            m.AddOrUpdate(CheckpointEntry.ForFile(p, s, "cfg", 1.0, 0.5, 0.5, good: true));
        }
        m.Save();
        File.WriteAllText(run.CheckpointPath(200), "weights 201"); // same size, other bytes
        File.WriteAllText(run.CheckpointPath(300), "orphan");

        var latest = CheckpointCatalog.List(run, goodOnly: true, latest: true, verify: true, out var rejected);
        var all = CheckpointCatalog.List(run, goodOnly: false, latest: false, verify: true, out _);

        Assert.Equal(100, latest.Single().Step);
        Assert.Equal("HashMismatch", rejected.Single().Verified);
        Assert.Equal(new[] { "Verified", "HashMismatch", "NotInManifest" }, all.Select(c => c.Verified));
        Assert.Equal(300, all[2].Step);
    }
}

public class ConfigHashTests
{
    [Fact]
    public void Compute_LineEndingsAndTrailingSpace_SameHash()
    {
        var a = ConfigHash.Compute("model:\n  preset: small\n");
        Assert.Equal(a, ConfigHash.Compute("model:  \r\n  preset: small"));
        Assert.NotEqual(a, ConfigHash.Compute("model:\n  preset: nvidia\n"));
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ConfigHash.Compute(""));
    }
}
