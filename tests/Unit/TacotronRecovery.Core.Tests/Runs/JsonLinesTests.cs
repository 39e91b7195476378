using System.Text;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Runs;
using static TacotronRecovery.Core.Tests.Runs.RunsTestData;

namespace TacotronRecovery.Core.Tests.Runs;

public class JsonLinesTests
{
    [Fact]
    public void Read_TornLastLine_SkipsItAndCountsIt()
    {
        using var dir = new TempDir();
        var f = dir.File("metrics.jsonl");
        WriteLines(f, new[] { Line(1), Line(2), Line(3) }, tail: "{\"step\":4,\"loss\":0.");
        long intact = new FileInfo(f).Length - "{\"step\":4,\"loss\":0.".Length;

        var stats = new JsonLinesStats();
        var steps = JsonLines.Read<StepMetrics>(f, stats).Select(m => m.Step).ToList();

        Assert.Equal(new[] { 1, 2, 3 }, steps);
        Assert.Equal(1, stats.Skipped);
        Assert.True(stats.TornTail);
        Assert.Equal(3, stats.Records);
        Assert.Equal(intact, stats.Position);
        Assert.Equal(4, stats.Skips[0].LineNumber);
    }

    [Fact]
    public void Read_InvalidLineInMiddle_SkipsAndCountsWithLineNumber()
    {
        using var dir = new TempDir();
        var f = dir.File("m.jsonl");
        WriteLines(f, new[] { Line(1), "this is not json", Line(3), "{\"step\":\"four\"}", Line(5) });

        var stats = new JsonLinesStats();
        var steps = JsonLines.Read<StepMetrics>(f, stats).Select(m => m.Step).ToList();

        Assert.Equal(new[] { 1, 3, 5 }, steps);
        Assert.Equal(2, stats.Skipped);
        Assert.False(stats.TornTail);
        Assert.Equal(new long[] { 2, 4 }, stats.Skips.Select(s => s.LineNumber));
        Assert.Equal(new FileInfo(f).Length, stats.Position);
    }

    [Fact]
    public void Read_MissingFile_IsEmpty()
    {
        using var dir = new TempDir();
        var stats = new JsonLinesStats();
        Assert.Empty(JsonLines.Read<StepMetrics>(dir.File("none.jsonl"), stats));
        Assert.Equal(0, stats.Lines);
        Assert.Empty(JsonLines.ReadLast<StepMetrics>(dir.File("none.jsonl"), 5));
        Assert.Empty(JsonLines.ReadSince<StepMetrics>(dir.File("none.jsonl"), 5));
    }

    [Fact]
    public void Read_BlankAndCrLfLines_BlankIgnoredCrLfAccepted()
    {
        using var dir = new TempDir();
        var f = dir.File("m.jsonl");
        File.WriteAllText(f, Line(1) + "\r\n\n   \n" + Line(2) + "\n");

        var stats = new JsonLinesStats();
        Assert.Equal(new[] { 1, 2 }, JsonLines.Read<StepMetrics>(f, stats).Select(m => m.Step));
        Assert.Equal(0, stats.Skipped);
        Assert.Equal(2, stats.Lines);
    }

    [Fact]
    public void Read_UnterminatedCompleteLastLine_IsYielded()
    {
        using var dir = new TempDir();
        var f = dir.File("m.jsonl");
        WriteLines(f, new[] { Line(1) }, tail: Line(2));

        var stats = new JsonLinesStats();
        Assert.Equal(new[] { 1, 2 }, JsonLines.Read<StepMetrics>(f, stats).Select(m => m.Step));
        Assert.False(stats.TornTail);
        Assert.Equal(new FileInfo(f).Length, stats.Position);
    }

    [Theory]
    [InlineData(double.NaN, null, false)]
    [InlineData(1.0, null, true)]        // no MMI: nothing to judge
    [InlineData(1.0, 0.5, true)]
    [InlineData(1.0, double.NaN, false)] // MMI's own component
    public void LossesFinite_EveryComponentMmiIncluded(double gate, double? mmi, bool expected)
    {
        var m = new StepMetrics { Step = 1, Loss = 1, MelLoss = 1, MelPostnetLoss = 1, GateLoss = gate, MmiLoss = mmi, GradNorm = double.NaN };
        Assert.Equal(expected, m.LossesFinite());
    }

    [Fact]
    public void Writer_AnotherProcessAppendsBetweenRecords_BothKept()
    {
        // The PyTorch adapter appends to events.jsonl (O_APPEND) while the supervisor's writer is open.
        using var dir = new TempDir();
        var f = dir.File("m.jsonl");
        using (var w = new JsonLinesWriter<StepMetrics>(f))
        {
            w.Append(Step(1, 1.0));
            File.AppendAllText(f, "{\"step\":2,\"loss\":2}\n");
            w.Append(Step(3, 3.0));
        }
        Assert.Equal(new[] { 1, 2, 3 }, JsonLines.Read<StepMetrics>(f).Select(m => m.Step).ToArray());
    }

    [Fact]
    public void Writer_NonFiniteLoss_RoundTripsAsNamedLiteral()
    {
        using var dir = new TempDir();
        var f = dir.File("m.jsonl");
        using (var w = new JsonLinesWriter<StepMetrics>(f))
        {
            w.Append(Step(1, double.NaN));
            w.Append(Step(2, double.PositiveInfinity));
        }
        var text = File.ReadAllText(f);
        Assert.Contains("\"loss\":\"NaN\"", text);
        Assert.Contains("\"mel_postnet_loss\":", text);
        Assert.Equal(2, text.Count(c => c == '\n'));
        var back = JsonLines.Read<StepMetrics>(f).ToList();
        Assert.True(double.IsNaN(back[0].Loss));
        Assert.Equal(double.PositiveInfinity, back[1].Loss);
    }

    [Fact]
    public void Writer_ExistingTornLine_TerminatesItBeforeAppending()
    {
        using var dir = new TempDir();
        var f = dir.File("m.jsonl");
        WriteLines(f, new[] { Line(1) }, tail: "{\"step\":2,\"lo");

        using (var w = new JsonLinesWriter<StepMetrics>(f))
        {
            Assert.True(w.RepairedTornLine);
            w.Append(Step(3));
        }

        var stats = new JsonLinesStats();
        Assert.Equal(new[] { 1, 3 }, JsonLines.Read<StepMetrics>(f, stats).Select(m => m.Step));
        Assert.Equal(1, stats.Skipped);
        Assert.False(stats.TornTail);
    }

    [Fact]
    public void Writer_ConcurrentAppends_EveryLineIntact()
    {
        using var dir = new TempDir();
        var f = dir.File("m.jsonl");
        using (var w = new JsonLinesWriter<StepMetrics>(f))
        {
            Parallel.For(0, 4, t =>
            {
                for (int i = 0; i < 500; i++) w.Append(Step(t * 1000 + i));
            });
            Assert.Equal(2000, w.Count);
        }
        var stats = new JsonLinesStats();
        var steps = JsonLines.Read<StepMetrics>(f, stats).Select(m => m.Step).ToHashSet();
        Assert.Equal(2000, steps.Count);
        Assert.Equal(0, stats.Skipped);
    }

    [Fact]
    public void Writer_OpenForAppend_ReaderCanReadWhileOpen()
    {
        using var dir = new TempDir();
        var f = dir.File("m.jsonl");
        using var w = new JsonLinesWriter<StepMetrics>(f);
        w.Append(Step(1));
        Assert.Equal(new[] { 1 }, JsonLines.Read<StepMetrics>(f).Select(m => m.Step));
        w.Append(Step(2));
        Assert.Equal(new[] { 1, 2 }, JsonLines.Read<StepMetrics>(f).Select(m => m.Step));
    }

    [Fact]
    public void ReadLast_LargeFile_SeeksToTheLastLines()
    {
        using var dir = new TempDir();
        var f = dir.File("m.jsonl");
        const int n = 100_000;
        WriteLines(f, Enumerable.Range(1, n).Select(i => Line(i)));
        long expectedOffset = new FileInfo(f).Length - Enumerable.Range(n - 9, 10).Sum(i => Encoding.UTF8.GetByteCount(Line(i)) + 1);

        Assert.Equal(expectedOffset, JsonLines.FindTailStart(f, 10));
        var stats = new JsonLinesStats();
        var last = JsonLines.ReadLast<StepMetrics>(f, 10, stats).Select(m => m.Step).ToList();

        Assert.Equal(Enumerable.Range(n - 9, 10), last);
        Assert.Equal(10, stats.Lines);
        Assert.Equal(new FileInfo(f).Length, stats.Position);
    }

    [Fact]
    public void ReadLast_InvalidAndTornLinesInTail_DoNotCount()
    {
        using var dir = new TempDir();
        var f = dir.File("m.jsonl");
        WriteLines(f, new[] { Line(1), Line(2), Line(3), Line(4), Line(5), "garbage", Line(6) }, tail: "{\"step\":7");

        var stats = new JsonLinesStats();
        var last = JsonLines.ReadLast<StepMetrics>(f, 3, stats).Select(m => m.Step).ToList();

        Assert.Equal(new[] { 4, 5, 6 }, last);
        Assert.Equal(2, stats.Skipped);
        Assert.True(stats.TornTail);
    }

    [Fact]
    public void ReadLast_FewerLinesThanRequested_ReturnsAll()
    {
        using var dir = new TempDir();
        var f = dir.File("m.jsonl");
        WriteLines(f, new[] { Line(1), Line(2) });
        Assert.Equal(new[] { 1, 2 }, JsonLines.ReadLast<StepMetrics>(f, 50).Select(m => m.Step));
        Assert.Equal(0, JsonLines.FindTailStart(f, 50));
    }

    [Fact]
    public void ReadSince_AfterRollback_ReturnsEveryRecordAtOrAfterStepInFileOrder()
    {
        using var dir = new TempDir();
        var f = dir.File("m.jsonl");
        var steps = Enumerable.Range(1, 10).Concat(Enumerable.Range(6, 7)); // rollback to 5, then 6..12
        WriteLines(f, steps.Select(i => Line(i)).Append("not json"));

        var stats = new JsonLinesStats();
        var got = JsonLines.ReadSince<StepMetrics>(f, 8, stats).Select(m => m.Step).ToList();

        Assert.Equal(new[] { 8, 9, 10, 8, 9, 10, 11, 12 }, got);
        Assert.Equal(1, stats.Skipped);
        Assert.Equal(8, stats.Records);
    }

    [Fact]
    public async Task Follow_ConcurrentWriterWithHalfWrittenLine_WaitsForTheNewline()
    {
        using var dir = new TempDir();
        var f = dir.File("m.jsonl");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var got = new List<int>();
        var stats = new JsonLinesStats();
        var second = Line(2);

        var writer = Task.Run(async () =>
        {
            await Task.Delay(100);
            using var fs = new FileStream(f, FileMode.Append, FileAccess.Write, FileShare.Read);
            void Put(string s) { var b = Encoding.UTF8.GetBytes(s); fs.Write(b); fs.Flush(); }
            Put(Line(1) + "\n");
            Put(second[..(second.Length / 2)]);       // half a line
            await Task.Delay(400);                      // several polls see the half line
            Put(second[(second.Length / 2)..] + "\n");
            Put(Line(3) + "\n");
        });

        foreach (var m in JsonLines.Follow<StepMetrics>(f, TimeSpan.FromMilliseconds(20), 0, stats, cts.Token))
        {
            got.Add(m.Step);
            if (got.Count == 3) break;
        }
        await writer;

        Assert.Equal(new[] { 1, 2, 3 }, got);
        Assert.Equal(0, stats.Skipped);
        Assert.False(cts.IsCancellationRequested);
    }

    [Fact]
    public void Follow_StartOffsetAfterRead_YieldsOnlyNewLines()
    {
        using var dir = new TempDir();
        var f = dir.File("m.jsonl");
        WriteLines(f, new[] { Line(1), Line(2) });
        var stats = new JsonLinesStats();
        Assert.Equal(2, JsonLines.Read<StepMetrics>(f, stats).Count());
        File.AppendAllText(f, Line(3) + "\n");

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var first = JsonLines.Follow<StepMetrics>(f, TimeSpan.FromMilliseconds(20), stats.Position, null, cts.Token).First();
        Assert.Equal(3, first.Step);
    }

    [Fact]
    public void Follow_Cancelled_EndsWithoutThrowing()
    {
        using var dir = new TempDir();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var all = JsonLines.Follow<StepMetrics>(dir.File("later.jsonl"), TimeSpan.FromMilliseconds(20), 0, null, cts.Token).ToList();
        Assert.Empty(all);
        Assert.True(cts.IsCancellationRequested);
    }

    [Fact]
    public void Follow_FileTruncated_RestartsFromTheBeginning()
    {
        using var dir = new TempDir();
        var f = dir.File("m.jsonl");
        WriteLines(f, new[] { Line(1), Line(2), Line(3) });
        using var cursor = new JsonLinesCursor<StepMetrics>(f);
        Assert.Equal(new[] { 1, 2, 3 }, cursor.ReadAvailable().Select(m => m.Step));
        WriteLines(f, new[] { Line(9) });
        Assert.Equal(new[] { 9 }, cursor.ReadAvailable().Select(m => m.Step));
    }
}

/// <summary>Measures process-wide heap figures, so it runs alone (after the parallel tests).</summary>
[CollectionDefinition(nameof(RunsMemoryCollection), DisableParallelization = true)]
public sealed class RunsMemoryCollection;

[Collection(nameof(RunsMemoryCollection))]
public class JsonLinesMemoryTests
{
    [Fact]
    public void Read_MillionLineStyleEnumeration_RetainedMemoryStaysFlat()
    {
        using var dir = new TempDir();
        var f = dir.File("m.jsonl");
        const int n = 200_000;
        WriteLines(f, Enumerable.Range(1, n).Select(i => Line(i)));

        long at10k = 0, atEnd = 0, allocatedStart = 0, count = 0;
        double sum = 0;
        foreach (var m in JsonLines.Read<StepMetrics>(f))
        {
            count++;
            sum += m.Loss;
            if (count == 10_000)
            {
                at10k = GC.GetTotalMemory(forceFullCollection: true);
                allocatedStart = GC.GetAllocatedBytesForCurrentThread();
            }
            if (count == n - 1)
            {
                atEnd = GC.GetTotalMemory(forceFullCollection: true);
                long perRecord = (GC.GetAllocatedBytesForCurrentThread() - allocatedStart) / (n - 10_001);
                Assert.InRange(perRecord, 1, 2048); // the record itself, no per-line buffers or strings kept
            }
        }

        Assert.Equal(n, count);
        Assert.Equal(n * 1.0, sum, 6);
        Assert.InRange(atEnd - at10k, long.MinValue, 4L * 1024 * 1024); // nothing accumulates while enumerating
    }
}
