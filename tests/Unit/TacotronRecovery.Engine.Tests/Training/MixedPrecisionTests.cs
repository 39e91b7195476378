using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Recovery;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Engine.Checkpoints;
using TacotronRecovery.Engine.Model;
using TacotronRecovery.Engine.Runtime;
using TacotronRecovery.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Tests.Training;

/// <summary>
/// Mixed precision: the loss scaler on CPU tensors (fp32 and fp16 products), the bf16/fp16 products against fp32, how
/// training.mixed_precision resolves, and the trainer switching the products' dtype across safe-mode transitions.
/// </summary>
[Collection("torch")]
public sealed class MixedPrecisionTests : IDisposable
{
    private readonly TrainerScope _trainers = new();

    public MixedPrecisionTests() => torch.set_num_threads(1);

    public void Dispose() => _trainers.Dispose();

    private (Trainer Trainer, MemorySink Sink, RunDirectory Run) Create(TacotronConfig config, string? dir = null) =>
        _trainers.Create(config, dir);

    private static TacotronConfig Config(MixedPrecisionMode mode, Func<TacotronConfig, TacotronConfig>? change = null) =>
        TrainerFixture.Config(c =>
        {
            var changed = c with { Training = c.Training with { MixedPrecision = mode } };
            return change is null ? changed : change(changed);
        });

    // ---- GradScaler -------------------------------------------------------------------------------------------

    [Fact]
    public void Scaler_ScaleThenUnscale_GradientsAndClipNormAsWithoutScaling()
    {
        using var scope = NewDisposeScope();
        var x = randn(6, 5, generator: new Generator(1));
        var plain = nn.Parameter(zeros(5, 3));
        var scaled = nn.Parameter(zeros(5, 3));
        using (no_grad())
        {
            var init = randn(5, 3, generator: new Generator(2));
            plain.copy_(init);
            scaled.copy_(init);
        }
        x.mm(plain).tanh().sum().backward();
        var scaler = new GradScaler(initialScale: 1024);
        var loss = x.mm(scaled).tanh().sum();
        var big = scaler.ScaleLoss(loss);
        Assert.Equal(loss.item<float>() * 1024, big.item<float>(), 1e-2);
        big.backward();
        Assert.True(scaled.grad!.abs().max().item<float>() > 100 * plain.grad!.abs().max().item<float>());

        scaler.Unscale([scaled]);
        Assert.True(allclose(plain.grad!, scaled.grad!, rtol: 1e-6, atol: 1e-7));
        double normPlain = nn.utils.clip_grad_norm_([plain], 0.1), normScaled = nn.utils.clip_grad_norm_([scaled], 0.1);
        Assert.Equal(normPlain, normScaled, 5);
        Assert.True(allclose(plain.grad!, scaled.grad!, rtol: 1e-6, atol: 1e-7));
    }

    [Fact]
    public void Scaler_Fp16Products_SmallGradientSurvivesOnlyWithScaling()
    {
        using var scope = NewDisposeScope();
        var x = ones(4, 8);
        Tensor Gradient(GradScaler? scaler)
        {
            var w = ones(3, 8).requires_grad_(true);
            Tensor loss;
            using (MixedPrecision.Enable(ScalarType.Float16))
                loss = MixedPrecision.Linear("test", x, w, null).sum().mul(Scalars1e8);
            (scaler is null ? loss : scaler.ScaleLoss(loss)).backward();
            scaler?.Unscale([w]);
            return w.grad!;
        }

        // d loss / d w = 4e-8 per element: below fp16's smallest subnormal (6e-8) in the product's backward.
        Assert.Equal(0f, Gradient(null).abs().max().item<float>());
        var scaled = Gradient(new GradScaler());
        Assert.True(allclose(scaled, full(3, 8, 4e-8f), rtol: 2e-2, atol: 0));
    }

    private static readonly Scalar Scalars1e8 = 1e-8.ToScalar();

    [Fact]
    public void Scaler_OverflowInFp16Backward_NonFiniteNormThenSkipAndShrink()
    {
        using var scope = NewDisposeScope();
        var x = full(4, 8, 100f);
        var w = nn.Parameter(ones(3, 8));
        var scaler = new GradScaler(initialScale: 65536, growthInterval: 3);
        scaler.Update(overflowed: false);
        Tensor loss;
        using (MixedPrecision.Enable(ScalarType.Float16))
            loss = MixedPrecision.Linear("test", x, w, null).sum();
        scaler.ScaleLoss(loss).backward(); // the scaled output gradient, 65536, is already above fp16's largest value (65504)
        scaler.Unscale([w]);
        double norm = nn.utils.clip_grad_norm_([w], 1.0);
        Assert.False(double.IsFinite(norm));
        Assert.Equal(65536, scaler.Update(overflowed: true));
        Assert.Equal(32768, scaler.Scale);
        Assert.Equal(0, scaler.GrowthTracker);
    }

    [Fact]
    public void Scaler_GrowsAfterIntervalOfFiniteSteps_OverflowResetsTheCount()
    {
        var s = new GradScaler(initialScale: 8, growthInterval: 3);
        s.Update(false);
        s.Update(false);
        Assert.Equal((8.0, 2), (s.Scale, s.GrowthTracker));
        s.Update(true);
        Assert.Equal((4.0, 0), (s.Scale, s.GrowthTracker));
        s.Update(false);
        s.Update(false);
        s.Update(false);
        Assert.Equal((8.0, 0), (s.Scale, s.GrowthTracker));
    }

    [Fact]
    public void Scaler_State_RoundTripsThroughJson_OldCheckpointKeepsDefaults()
    {
        var s = new GradScaler(initialScale: 8, growthInterval: 5);
        s.Update(true);
        s.Update(false);
        s.Update(false);
        var json = System.Text.Json.Nodes.JsonNode.Parse(s.ToJson().ToJsonString());
        var t = new GradScaler(growthInterval: 5);
        t.Restore(json);
        Assert.Equal((4.0, 2), (t.Scale, t.GrowthTracker));
        var fresh = new GradScaler();
        fresh.Restore(null);
        Assert.Equal((65536.0, 0), (fresh.Scale, fresh.GrowthTracker));
    }

    // ---- products -----------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(ScalarType.BFloat16, 2e-2)]
    [InlineData(ScalarType.Float16, 2e-3)]
    public void Products_LowPrecision_CloseToFp32ForwardAndBackward(ScalarType low, double tolerance)
    {
        using var scope = NewDisposeScope();
        var g = new Generator(5);
        var x = randn(40, 64, generator: g).requires_grad_(true);
        var w = randn(32, 64, generator: g).requires_grad_(true);
        var b = randn(32, generator: g).requires_grad_(true);
        var weights = randn(40, 32, generator: g);
        var y32 = nn.functional.linear(x, w, b);
        var (gx32, gw32, gb32) = Grads(y32);
        Tensor y;
        var seen = new List<ScalarType>();
        using (MixedPrecision.Observe((_, dtype) => seen.Add(dtype)))
        using (MixedPrecision.Enable(low))
            y = MixedPrecision.Linear("test", x, w, b);
        Assert.Equal([low], seen);
        Assert.Equal(ScalarType.Float32, y.dtype);
        Assert.False(y.allclose(y32, rtol: 0, atol: 0)); // really computed differently
        Assert.True(RelativeError(y, y32) < tolerance);
        var (gx, gw, gb) = Grads(y);
        Assert.Equal(ScalarType.Float32, gw.dtype);
        Assert.True(RelativeError(gx, gx32) < tolerance);
        Assert.True(RelativeError(gw, gw32) < tolerance);
        Assert.True(gb.allclose(gb32, rtol: 0, atol: 0)); // the bias is added in fp32

        (Tensor, Tensor, Tensor) Grads(Tensor output)
        {
            foreach (var p in new[] { x, w, b }) p.grad?.zero_();
            output.mul(weights).sum().backward(); // a fixed output gradient: only the products' precision differs
            return (x.grad!.clone(), w.grad!.clone(), b.grad!.clone());
        }
    }

    private static double RelativeError(Tensor a, Tensor b) => a.sub(b).norm().item<float>() / b.norm().item<float>();

    [Fact]
    public void Products_NoScope_Fp32PathBitIdentical()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(6);
        var x = randn(3, 7, 16, generator: g);
        var w = randn(8, 16, generator: g);
        var b = randn(8, generator: g);
        Assert.True(MixedPrecision.Linear("t", x, w, b).allclose(nn.functional.linear(x, w, b), rtol: 0, atol: 0));
        using (MixedPrecision.Enable(ScalarType.Float32))
            Assert.Null(MixedPrecision.ProductType);
    }

    // ---- resolution ---------------------------------------------------------------------------------------------

    [Fact]
    public void Plan_Auto_Fp16OnCudaBf16OnNativeCpuElseFp32WithReason()
    {
        Assert.Equal(MixedPrecisionMode.Fp16, PrecisionPlan.Resolve(MixedPrecisionMode.Auto, cuda: true, cpuBf16: null).Mode);
        var native = PrecisionPlan.Resolve(MixedPrecisionMode.Auto, cuda: false, cpuBf16: "AVX512-BF16");
        Assert.Equal((MixedPrecisionMode.Bf16, ScalarType.BFloat16, false), (native.Mode, native.ProductType!.Value, native.Emulated));
        var none = PrecisionPlan.Resolve(MixedPrecisionMode.Auto, cuda: false, cpuBf16: null);
        Assert.Equal(MixedPrecisionMode.Off, none.Mode);
        Assert.Null(none.ProductType);
        Assert.Contains("neither AVX512-BF16 nor AMX-BF16", none.Why);
        var forced = PrecisionPlan.Resolve(MixedPrecisionMode.Bf16, cuda: false, cpuBf16: null);
        Assert.Equal((MixedPrecisionMode.Bf16, true), (forced.Mode, forced.Emulated));
        Assert.True(PrecisionPlan.Resolve(MixedPrecisionMode.Fp16, cuda: false, cpuBf16: "AVX512-BF16").ScalesLoss);
        Assert.Equal(MixedPrecisionMode.Off, PrecisionPlan.Resolve(MixedPrecisionMode.Off, cuda: true, cpuBf16: "AMX-BF16").Mode);
    }

    [Fact]
    public void Plan_CpuBf16_AgreesWithProcCpuinfo()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/proc/cpuinfo")) return;
        var flags = File.ReadAllLines("/proc/cpuinfo").First(l => l.StartsWith("flags", StringComparison.Ordinal)).Split(' ');
        bool expected = flags.Contains("avx512f") && (flags.Contains("avx512_bf16") || flags.Contains("amx_bf16"));
        Assert.Equal(expected, PrecisionPlan.CpuBf16() is not null);
    }

    // ---- trainer ------------------------------------------------------------------------------------------------

    [Fact]
    public void Trainer_SafeModeTransitions_SwitchTheProductsDtype()
    {
        var (t, sink, _) = Create(Config(MixedPrecisionMode.Bf16, c => c with
        {
            Recovery = c.Recovery with { StableStepsToStepDown = 3, CooldownSteps = 0 },
        }));
        var products = new Dictionary<int, HashSet<ScalarType>>();
        int current = 0;
        using (t)
        using (MixedPrecision.Observe((_, dtype) => { if (!products.TryGetValue(current, out var set)) products[current] = set = []; set.Add(dtype); }))
        {
            t.Start(resume: false);
            current = 1;
            t.Run(1, CancellationToken.None);
            t.Emergency("test", lastDiagonality: 0.9); // safe mode level 1, attention known to be fine
            for (current = 2; current <= 5; current++) t.Run(current, CancellationToken.None);
        }

        var enter = Assert.Single(sink.Events, e => e.Code == "SafeModeEnter");
        Assert.Contains("mixed precision (bf16) off", enter.Message);
        var down = Assert.Single(sink.Events, e => e.Code == "SafeModeStepDown");
        Assert.Equal(4, down.Step);
        Assert.Contains("mixed precision (bf16) back on", down.Message);
        Assert.Equal([ScalarType.BFloat16], products[1]);
        Assert.Equal([ScalarType.Float32], products[2]);
        Assert.Equal([ScalarType.Float32], products[4]);
        Assert.Equal([ScalarType.BFloat16], products[5]); // back on at level 0
        Assert.All(sink.Steps, s => Assert.True(double.IsFinite(s.Loss)));
        var started = Assert.Single(sink.Events, e => e.Code == "MixedPrecision");
        Assert.StartsWith("training.mixed_precision bf16: bf16 products", started.Message);
    }

    [Fact]
    public void Trainer_MixedPrecisionOff_NoEventAndFp32Products()
    {
        var (t, sink, _) = Create(Config(MixedPrecisionMode.Off));
        var seen = new HashSet<ScalarType>();
        using (t)
        using (MixedPrecision.Observe((_, dtype) => seen.Add(dtype)))
        {
            t.Start(resume: false);
            t.Run(2, CancellationToken.None);
            t.Emergency("test", lastDiagonality: 0.9);
        }
        Assert.Equal([ScalarType.Float32], seen);
        Assert.DoesNotContain("MixedPrecision", sink.Codes);
        Assert.DoesNotContain("mixed precision", Assert.Single(sink.Events, e => e.Code == "SafeModeEnter").Message);
    }

    [Fact]
    public void Trainer_Fp16Overflow_MarkedInTheStepLineAndNotANonFiniteGradientForHealthChecks()
    {
        var (t, sink, _) = Create(Config(MixedPrecisionMode.Fp16));
        using (t)
        {
            t.Start(resume: false);
            // A scale no fp16 gradient survives: the first steps overflow until the scaler has halved it enough.
            t.Scaler!.Restore(System.Text.Json.Nodes.JsonNode.Parse("{\"scale\": 1e30}"));
            t.Run(6, CancellationToken.None);
        }
        var overflowSteps = sink.Events.Where(e => e.Code == "LossScaleOverflow").Select(e => e.Step).ToList();
        Assert.NotEmpty(overflowSteps);
        Assert.Equal(overflowSteps, sink.Steps.Where(s => s.LossScaleOverflow == true).Select(s => s.Step));
        Assert.All(sink.Steps.Where(s => s.LossScaleOverflow == true), s => Assert.True(s.Skipped));
        var health = TacotronRecovery.Core.Health.HealthAnalyzer.Analyze(sink.Steps);
        Assert.DoesNotContain(health.Findings, f => f.Code == TacotronRecovery.Core.Health.HealthCodes.NonFiniteGradient);
    }

    [Fact]
    public void Trainer_Fp16_FiniteLossesAndScalerStateResumesFromCheckpoint()
    {
        var dir = TrainerFixture.NewRunDir();
        var (t, sink, run) = Create(Config(MixedPrecisionMode.Fp16), dir);
        double scale;
        int tracker;
        using (t)
        {
            t.Start(resume: false);
            Assert.Equal(TrainingOutcome.Completed, t.Run(10, CancellationToken.None));
            Assert.NotNull(t.Scaler);
            (scale, tracker) = (t.Scaler!.Scale, t.Scaler.GrowthTracker);
            int overflows = sink.Codes.Count(c => c == "LossScaleOverflow");
            Assert.Equal(65536 * Math.Pow(0.5, overflows), scale);
            Assert.Equal(overflows == 0 ? 10 : 10 - sink.Events.Last(e => e.Code == "LossScaleOverflow").Step, tracker);
        }
        Assert.All(sink.Steps, s => Assert.True(double.IsFinite(s.Loss)));
        var meta = CheckpointFile.Read(run.CheckpointPath(10)).Meta;
        Assert.Equal("fp16", meta["mixed_precision"]!.GetValue<string>());
        Assert.Equal(scale, meta["grad_scaler"]!["scale"]!.GetValue<double>());

        var (resumed, _, _) = Create(Config(MixedPrecisionMode.Fp16, c => c with { Training = c.Training with { MaxSteps = 12 } }), dir);
        using (resumed)
        {
            resumed.Start(resume: false, checkpoint: run.CheckpointPath(10));
            Assert.Equal(10, resumed.Step);
            Assert.Equal((scale, tracker), (resumed.Scaler!.Scale, resumed.Scaler.GrowthTracker));
        }
    }
}
