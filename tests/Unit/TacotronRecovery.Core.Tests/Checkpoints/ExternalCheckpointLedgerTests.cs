using TacotronRecovery.Core.Checkpoints;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Core.Tests.Runs;

namespace TacotronRecovery.Core.Tests.Checkpoints;

public class ExternalCheckpointLedgerTests
{
    private static ExternalCheckpoint Entry(TempDir dir, string name, int step, bool? good, string content = "")
    {
        var path = dir.File(name);
        File.WriteAllText(path, content.Length > 0 ? content : $"step={step}");
        return new ExternalCheckpoint { Path = path, Step = step, Good = good, Sha256 = CheckpointEntry.Sha256Of(path), Saved = RunsTestData.T0 };
    }

    [Fact]
    public void SaveLoad_RoundTrips_PendingWrittenAsNull()
    {
        using var dir = new TempDir();
        var ledger = new ExternalCheckpointLedger();
        ledger.Add(Entry(dir, "checkpoint_5", 5, true) with { Loss = 0.5, Diagonality = 0.8 });
        ledger.Add(Entry(dir, "checkpoint_10", 10, null));
        ledger.Save(dir.File("external.json"));
        Assert.Contains("\"good\":null", File.ReadAllText(dir.File("external.json")));
        var back = ExternalCheckpointLedger.Load(dir.File("external.json"));
        Assert.Equal(ledger.Entries, back.Entries);
        Assert.Equal([10], back.Pending.Select(e => e.Step));
    }

    [Fact]
    public void Load_MissingIsEmpty_CorruptIsLedgerCorrupt()
    {
        using var dir = new TempDir();
        Assert.Empty(ExternalCheckpointLedger.Load(dir.File("none.json")).Entries);
        File.WriteAllText(dir.File("bad.json"), "{");
        Assert.Equal("LedgerCorrupt", Assert.Throws<RunDataException>(() => ExternalCheckpointLedger.Load(dir.File("bad.json"))).ErrorId);
    }

    [Fact]
    public void SelectLastGood_NewestInSaveOrder_SkipsPendingBadChangedAndMissingFiles()
    {
        using var dir = new TempDir();
        var ledger = new ExternalCheckpointLedger();
        ledger.Add(Entry(dir, "checkpoint_5", 5, true));
        ledger.Add(Entry(dir, "checkpoint_20", 20, true));
        ledger.Add(Entry(dir, "checkpoint_10", 10, true)); // saved after a rollback to step 5: newer despite its step
        ledger.Add(Entry(dir, "checkpoint_15", 15, false));
        ledger.Add(Entry(dir, "checkpoint_16", 16, null));
        Assert.Equal(10, ledger.SelectLastGood(out var none)!.Step);
        Assert.Empty(none);

        File.WriteAllText(dir.File("checkpoint_10"), "tampered");
        File.Delete(dir.File("checkpoint_20"));
        var chosen = ledger.SelectLastGood(out var rejected);
        Assert.Equal(5, chosen!.Step);
        Assert.Equal(2, rejected.Count);
        Assert.Contains("changed since it was saved", rejected[0]);
        Assert.Contains("is missing", rejected[1]);
    }

    [Fact]
    public void SelectLastGood_WithMinDiagonality_OnlyWellAligned()
    {
        using var dir = new TempDir();
        var ledger = new ExternalCheckpointLedger();
        ledger.Add(Entry(dir, "a", 5, true) with { Diagonality = 0.7 });
        ledger.Add(Entry(dir, "b", 10, true) with { Diagonality = 0.1 });
        ledger.Add(Entry(dir, "c", 15, true));
        Assert.Equal(15, ledger.SelectLastGood(out _)!.Step);
        Assert.Equal(5, ledger.SelectLastGood(out _, minDiagonality: 0.5)!.Step);
    }

    [Fact]
    public void Add_SamePathReplacesAndMovesLast_UpdateKeepsThePlace()
    {
        using var dir = new TempDir();
        var ledger = new ExternalCheckpointLedger();
        var a = Entry(dir, "a", 5, true);
        ledger.Add(a);
        ledger.Add(Entry(dir, "b", 10, true));
        ledger.Add(a with { Step = 7 });
        Assert.Equal([10, 7], ledger.Entries.Select(e => e.Step));
        ledger.Update(ledger.Entries[0] with { Good = false });
        Assert.Equal([false, true], ledger.Entries.Select(e => e.Good));
    }
}
