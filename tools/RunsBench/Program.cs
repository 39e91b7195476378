using System.Diagnostics;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Runs;

// Each measurement runs in its own process (see bench.sh) so that peak RSS belongs to that measurement alone.
var mode = args.Length > 0 ? args[0] : "all";
var file = args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), "runs-bench-metrics.jsonl");
const int N = 1_000_000;
var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

static string Mb(long b) => $"{b / 1024.0 / 1024.0:0.0} MB";
void Report(string what, Stopwatch sw, long records)
{
    using var self = Process.GetCurrentProcess();
    self.Refresh();
    Console.WriteLine($"{what,-28} {records,9} records  {sw.Elapsed.TotalSeconds,6:0.00} s  {records / sw.Elapsed.TotalSeconds,10:N0}/s  " +
                      $"peak RSS {Mb(self.PeakWorkingSet64)}  GC heap {Mb(GC.GetTotalMemory(false))}  allocated {Mb(GC.GetTotalAllocatedBytes())}");
}

switch (mode)
{
    case "write":
    {
        File.Delete(file);
        var sw = Stopwatch.StartNew();
        using (var w = new JsonLinesWriter<StepMetrics>(file))
            for (int i = 1; i <= N; i++)
                w.Append(new StepMetrics
                {
                    Run = "bench", Step = i, Time = t0.AddSeconds(i), Epoch = i / 1000, LearningRate = 1e-3, Loss = 1.0 / i,
                    MelLoss = 0.5, MelPostnetLoss = 0.4, GateLoss = 0.1, GuidedAttentionLoss = 0.05, GuidedAttentionWeight = 10,
                    GradNorm = 2.5, ClipThreshold = 1, BatchSize = 32, StepSeconds = 0.8,
                });
        sw.Stop();
        Report("write (flush per record)", sw, N);
        Console.WriteLine($"file size {Mb(new FileInfo(file).Length)}");
        break;
    }
    case "read":
    {
        var stats = new JsonLinesStats();
        var sw = Stopwatch.StartNew();
        double sum = 0;
        foreach (var m in JsonLines.Read<StepMetrics>(file, stats)) sum += m.Loss;
        sw.Stop();
        Report("Read (all)", sw, stats.Records);
        break;
    }
    case "last":
    {
        var sw = Stopwatch.StartNew();
        long n = JsonLines.ReadLast<StepMetrics>(file, 500).Count();
        sw.Stop();
        Report("ReadLast 500", sw, n);
        break;
    }
    case "since":
    {
        var sw = Stopwatch.StartNew();
        long n = JsonLines.ReadSince<StepMetrics>(file, N - 1000 + 1).Count();
        sw.Stop();
        Report("ReadSince (last 1000 steps)", sw, n);
        break;
    }
}
