using System.Globalization;
using System.Text;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Engine.Benchmarks;
using TacotronRecovery.Engine.Runtime;
using TacotronRecovery.Core.Contract;

namespace TacotronRecovery.Host.Verbs;

/// <summary>
/// <c>bench --preset small|nvidia|tiny --threads N --steps N [--warmup N] [--r N] [--mixed-precision off|bf16|fp16] [--health] [--phases] [--plain] [--json]</c>:
/// the training-step benchmark of docs/benchmarks.md. <c>bench --products --threads N</c>:
/// the throughput of the decoder's matrix products (MKL kernel choice and weight layout). Progress on stderr; the table on stdout,
/// or with --json on stderr and one line <c>{"type":"bench","data":{…}}</c> on stdout.
/// </summary>
public static class BenchVerb
{
    /// <summary>Runs the verb.</summary>
    public static int Run(Arguments args)
    {
        var preset = args.Get("preset") ?? "small";
        int threads = args.Int("threads") ?? 1;
        int steps = args.Int("steps") ?? 5;
        int warmup = args.Int("warmup") ?? 1;
        int? r = args.Int("r");
        bool health = args.Has("health"), json = args.Has("json"), phases = args.Has("phases"), plain = args.Has("plain");
        bool products = args.Has("products");
        var mixed = args.Get("mixed-precision") ?? "off";
        args.RejectUnknown();
        var precision = mixed.ToLowerInvariant() switch
        {
            "off" => Core.Config.MixedPrecisionMode.Off,
            "bf16" => Core.Config.MixedPrecisionMode.Bf16,
            "fp16" => Core.Config.MixedPrecisionMode.Fp16,
            _ => throw new UsageException($"--mixed-precision must be off, bf16 or fp16, got '{mixed}'."),
        };
        if (!BenchmarkPreset.Names.Contains(preset, StringComparer.OrdinalIgnoreCase))
            throw new UsageException($"--preset must be one of {string.Join(", ", BenchmarkPreset.Names)}, got '{preset}'.");
        if (threads < 0) throw new UsageException($"--threads must be 0 (one per core) or more, got {threads}.");
        if (steps < 1) throw new UsageException($"--steps must be at least 1, got {steps}.");
        if (warmup < 0) throw new UsageException($"--warmup must be 0 or more, got {warmup}.");
        if (r is < 1) throw new UsageException($"--r must be at least 1, got {r}.");

        TorchRuntime.SetThreads(threads);
        var before = BenchmarkMachine.Describe();
        if (products)
        {
            Console.Out.WriteLine($"MKL kernels: {before.MklDispatch}; oneDNN: {before.OneDnn}; torch threads: {TorchSharp.torch.get_num_threads()}");
            foreach (var p in MatrixProductBenchmark.Run())
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {p.Product,-26} weight {p.Weight,-16} {p.Milliseconds,8:F3} ms {p.Gflops,7:F0} GFLOP/s"));
            return ExitCodes.Ok;
        }

        var result = TrainingStepBenchmark.Run(new BenchmarkOptions
        {
            Preset = preset, Steps = steps, Warmup = warmup, FramesPerStep = r, Health = health, Phases = phases, PlainDecoder = plain,
            MixedPrecision = precision,
        }, line => Console.Error.WriteLine(line));
        double? loadAfter = BenchmarkMachine.LoadAverageNow();

        var table = Format(result, before, loadAfter);
        (json ? Console.Error : Console.Out).Write(table);
        if (json)
        {
            EngineEnvelope.Write(Console.Out, EngineEnvelope.Bench, new { Result = result, Machine = before, LoadAverageAfter = loadAfter });
        }
        return ExitCodes.Ok;
    }

    /// <summary>The human table.</summary>
    public static string Format(BenchmarkResult result, BenchmarkMachine machine, double? loadAfter)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(machine);
        var inv = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        void Row(string name, string value) => s.Append(inv, $"  {name,-26} {value}\n");
        s.Append('\n');
        Row("preset", $"{result.Preset} (batch {result.BatchSize}, r = {result.FramesPerStep}, {result.Parameters:N0} parameters, {result.Decoder} decoder)");
        Row("mixed precision", result.MixedPrecision == "off" ? "off (fp32)" : $"{result.MixedPrecision} products");
        Row("machine", $"{machine.Cpu}, {machine.LogicalCores} logical cores, libtorch {machine.LibTorch}");
        Row("MKL kernels", machine.MklDispatch);
        Row("oneDNN", machine.OneDnn);
        Row("native heap", machine.Heap);
        Row("torch threads", result.Threads.ToString(inv));
        Row("load average (1 min)", $"{Load(machine.LoadAverage)} before, {Load(loadAfter)} after");
        Row("steps", $"{result.Warmup} warm-up + {result.StepSeconds.Count} timed");
        Row("median s/step", result.MedianSeconds.ToString("F3", inv));
        Row("min s/step", result.MinSeconds.ToString("F3", inv));
        Row("max s/step", result.MaxSeconds.ToString("F3", inv));
        Row("peak RSS", $"{result.PeakRssBytes / (1024.0 * 1024.0):F0} MiB");
        Row("final loss", result.FinalLoss.ToString("F4", inv));
        if (result.Health is { } h)
        {
            Row("health per step", $"{h.PerStepSeconds * 1e3:F3} ms");
            Row("weight check", $"{h.ParameterCheckSeconds * 1e3:F1} ms every {h.ParameterCheckEverySteps} steps");
            Row("alignment metrics", $"{h.AlignmentSeconds * 1e3:F1} ms every {h.AlignmentEverySteps} steps");
            Row("health overhead", $"{h.OverheadPercent:F3} % of step time ({h.AmortizedSeconds * 1e3:F3} ms amortised)");
        }
        if (result.Phases is { } p)
        {
            Row("encoder forward", $"{p.EncoderForward:F3} s");
            Row("decoder forward", $"{p.DecoderForward:F3} s");
            Row("postnet forward", $"{p.PostnetForward:F3} s");
            Row("loss", $"{p.Loss:F3} s");
            Row("postnet+loss backward", $"{p.PostnetBackward:F3} s");
            Row("decoder backward", $"{p.DecoderBackward:F3} s");
            Row("encoder backward", $"{p.EncoderBackward:F3} s");
            Row("clip", $"{p.Clip:F3} s");
            Row("adam + zero_grad", $"{p.Optimizer:F3} s");
        }
        return s.ToString();

        string Load(double? v) => v is { } x ? x.ToString("F2", inv) : "n/a";
    }
}
