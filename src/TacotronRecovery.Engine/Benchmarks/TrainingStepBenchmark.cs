using System.Diagnostics;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Health;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Recovery;
using TacotronRecovery.Engine.Model;
using TacotronRecovery.Engine.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Benchmarks;

/// <summary>
/// The training-step benchmark of docs/benchmarks.md: the preset's model and synthetic batch (collated by the
/// trainer's <see cref="TrainingBatch.Collate"/>), and per step what <see cref="Trainer"/> does — dropout seeded from
/// (seed, step), teacher-forced forward, <see cref="Tacotron2Loss"/> (masked MSE mel + postnet, masked BCE gate, guided
/// attention weight 0), backward, clip_grad_norm_ at 1.0, Adam (lr 1e-3, weight decay 1e-6), zero_grad. Warm-up steps,
/// then timed steps; wall time per step. The health mode adds the trainer's health work (see <see cref="HealthOverhead"/>)
/// and measures it separately; the phase mode splits each step into forward, backward and optimizer parts.
/// Thread count is the process's torch setting (set it before, e.g. <see cref="Runtime.TorchRuntime.SetThreads"/>).
/// </summary>
public static class TrainingStepBenchmark
{
    /// <summary>Adam learning rate of the protocol.</summary>
    public const double LearningRate = 1e-3;
    /// <summary>Adam weight decay of the protocol.</summary>
    public const double WeightDecay = 1e-6;
    /// <summary>Gradient clipping threshold of the protocol.</summary>
    public const double ClipThreshold = 1.0;
    /// <summary>Synthetic steps fed to the recovery controller and health analyzer before the benchmark, so their rolling windows are full.</summary>
    public const int PrimingSteps = 200;

    /// <summary>Runs the benchmark; <paramref name="progress"/> gets one line per step.</summary>
    /// <exception cref="ArgumentException">Steps below 1, warm-up below 0, or an unknown preset.</exception>
    public static BenchmarkResult Run(BenchmarkOptions options, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Steps < 1) throw new ArgumentException($"Timed steps must be at least 1, got {options.Steps}.", nameof(options));
        if (options.Warmup < 0) throw new ArgumentException($"Warm-up steps must be 0 or more, got {options.Warmup}.", nameof(options));
        if (options.MixedPrecision == MixedPrecisionMode.Auto) throw new ArgumentException("Mixed precision for the benchmark must be off, bf16 or fp16, not auto.", nameof(options));
        var precision = Runtime.PrecisionPlan.Resolve(options.MixedPrecision, CPU);
        var scaler = precision.ScalesLoss ? new GradScaler() : null;
        var preset = BenchmarkPreset.Get(options.Preset, options.FramesPerStep);
        int r = preset.Model.NFramesPerStep;
        var examples = SyntheticBatch.Create(preset);

        torch.manual_seed(options.Seed);
        using var model = new Tacotron2("tacotron2", preset.Model);
        model.train();
        var parameters = model.parameters().ToArray();
        using var optimizer = Optimizers.Create("adam", parameters, LearningRate, WeightDecay);
        var loss = new Tacotron2Loss(options.Config.Training.GatePosWeight, options.Config.GuidedAttention.Sigma);
        using var batch = TrainingBatch.Collate(examples, r, CPU);
        var health = options.Health ? new HealthWork(options.Config, parameters, batch, r) : null;
        var phases = options.Phases ? new PhaseRunner(model, options.PlainDecoder) : null;

        var stepSeconds = new List<double>();
        var phaseSamples = new List<double[]>();
        double finalLoss = double.NaN;
        int total = options.Warmup + options.Steps;
        for (int i = 0; i < total; i++)
        {
            bool timed = i >= options.Warmup;
            int step = PrimingSteps + i + 1;
            using var scope = torch.NewDisposeScope();
            long start = Stopwatch.GetTimestamp();
            torch.manual_seed(unchecked(options.Seed * 1_000_003L + step));
            health?.BeforeForward(optimizer);

            long t0 = Stopwatch.GetTimestamp();
            Tacotron2Output output;
            using (Model.MixedPrecision.Enable(precision.ProductType))
            {
                output = phases is not null ? phases.Forward(batch)
                    : options.PlainDecoder ? model.ForwardPlain(batch.Text, batch.TextLengths, batch.Mels, batch.MelLengths)
                    : model.Forward(batch.Text, batch.TextLengths, batch.Mels, batch.MelLengths);
            }
            long t1 = Stopwatch.GetTimestamp();
            var losses = loss.Compute(output, batch.Mels, batch.GateTargets, batch.MelLengths, batch.TextLengths, 0.0, r);
            long t2 = Stopwatch.GetTimestamp();

            bool finite = health?.CheckLosses(losses) ?? true;
            double gradNorm = double.NaN;
            long t3 = Stopwatch.GetTimestamp(), t4 = t3;
            if (finite)
            {
                phases?.Clock.Reset();
                if (scaler is null) losses.Total.backward();
                else scaler.ScaleLoss(losses.Total).backward();
                t3 = Stopwatch.GetTimestamp();
                scaler?.Unscale(parameters);
                gradNorm = torch.nn.utils.clip_grad_norm_(parameters, ClipThreshold);
                scaler?.Update(!double.IsFinite(gradNorm));
                t4 = Stopwatch.GetTimestamp();
            }

            bool skip = (health?.OnStep(step, gradNorm) ?? false) || (scaler is not null && !double.IsFinite(gradNorm));
            if (!skip) optimizer.step();
            optimizer.zero_grad();
            long t5 = Stopwatch.GetTimestamp();
            health?.AfterStep(step);
            long end = Stopwatch.GetTimestamp();

            double seconds = Stopwatch.GetElapsedTime(start, end).TotalSeconds;
            health?.EndStep(timed);
            if (health is not null) finalLoss = health.LastTotal;
            else if (i == total - 1) finalLoss = losses.Total.item<float>();
            if (timed)
            {
                stepSeconds.Add(seconds);
                if (phases is not null) phaseSamples.Add(phases.Split(t0, t1, t2, t3, t4, t5));
                if (health is not null) health.RunScheduled(step, output);
            }
            progress?.Invoke(FormattableString.Invariant(
                $"step {i + 1}/{total}{(timed ? "" : " (warm-up)")}: {seconds:F3} s, forward {Stopwatch.GetElapsedTime(t0, t1).TotalSeconds:F3} s"));
        }

        var sorted = stepSeconds.Order().ToArray();
        double median = Median(sorted);
        return new BenchmarkResult
        {
            Preset = preset.Name, Threads = torch.get_num_threads(), FramesPerStep = r, BatchSize = preset.BatchSize,
            Parameters = model.ParameterCount(), Decoder = options.PlainDecoder ? "plain" : "fast", Warmup = options.Warmup,
            MixedPrecision = precision.Mode.ToString().ToLowerInvariant(),
            StepSeconds = stepSeconds, MedianSeconds = median, MinSeconds = sorted[0], MaxSeconds = sorted[^1],
            PeakRssBytes = PeakMemory.ReadBytes(), FinalLoss = finalLoss,
            Health = health?.Summarize(median), Phases = phases is null ? null : PhaseRunner.Summarize(phaseSamples),
        };
    }

    /// <summary>Median as Python's statistics.median: the middle value, or the mean of the middle two.</summary>
    public static double Median(IReadOnlyList<double> sorted)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Count == 0) return double.NaN;
        int n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static double MedianOf(IEnumerable<double> values) => Median(values.Order().ToArray());

    /// <summary>The trainer's health work, each piece timed.</summary>
    private sealed class HealthWork
    {
        private readonly TacotronConfig _config;
        private readonly Parameter[] _parameters;
        private readonly TrainingBatch _batch;
        private readonly int _r;
        private readonly RecoveryController _controller;
        private readonly HealthAnalyzer _analyzer;
        private readonly List<double> _perStep = new();
        private readonly List<double> _parameterChecks = new();
        private readonly List<double> _alignments = new();
        private double _current;
        private double _mel, _post, _gate, _ga, _total, _gradNorm, _lr;
        private bool _skip;

        public HealthWork(TacotronConfig config, Parameter[] parameters, TrainingBatch batch, int r)
        {
            _config = config;
            _parameters = parameters;
            _batch = batch;
            _r = r;
            _controller = new RecoveryController(config.Recovery, config.Training, config.GuidedAttention);
            _analyzer = new HealthAnalyzer(config.Health, config.Recovery, "bench");
            for (int s = 1; s <= PrimingSteps; s++)
            {
                double value = 1.0 + 0.01 * (s % 7);
                _controller.OnStep(new StepObservation(s, value / 3, value / 3, value / 3, 0, value, 1.0 + 0.01 * (s % 5)), LearningRate);
                _analyzer.Add(Metrics(s, value / 3, value / 3, value / 3, 0, value, 1.0 + 0.01 * (s % 5), LearningRate, skipped: false));
            }
        }

        public double LastTotal => _total;

        public void BeforeForward(OptimizerHelper optimizer)
        {
            long t = Stopwatch.GetTimestamp();
            _current = 0;
            var knobs = _controller.KnobsFor(LearningRate);
            _lr = knobs.LearningRate;
            foreach (var g in optimizer.ParamGroups) g.LearningRate = _lr;
            _current += Stopwatch.GetElapsedTime(t).TotalSeconds;
        }

        /// <summary>Reads each component as the trainer does; false when one is not finite (no backward then).</summary>
        public bool CheckLosses(LossComponents losses)
        {
            long t = Stopwatch.GetTimestamp();
            _mel = losses.Mel.item<float>();
            _post = losses.MelPostnet.item<float>();
            _gate = losses.Gate.item<float>();
            _ga = losses.GuidedAttention.item<float>();
            _total = losses.Total.item<float>();
            bool finite = double.IsFinite(_total) && double.IsFinite(_mel) && double.IsFinite(_post) && double.IsFinite(_gate) && double.IsFinite(_ga);
            _current += Stopwatch.GetElapsedTime(t).TotalSeconds;
            return finite;
        }

        /// <summary>The controller's decision; true when the optimizer step must be skipped.</summary>
        public bool OnStep(int step, double gradNorm)
        {
            long t = Stopwatch.GetTimestamp();
            _gradNorm = gradNorm;
            var observation = new StepObservation(step, _mel, _post, _gate, _ga, _total, gradNorm);
            var decisions = _controller.OnStep(observation, LearningRate);
            _skip = !(double.IsFinite(_total) && double.IsFinite(gradNorm)) || decisions.Any(d => d.Action == RecoveryAction.SkipStep);
            _current += Stopwatch.GetElapsedTime(t).TotalSeconds;
            return _skip;
        }

        public void AfterStep(int step)
        {
            long t = Stopwatch.GetTimestamp();
            _analyzer.Add(Metrics(step, _mel, _post, _gate, _ga, _total, _gradNorm, _lr, _skip));
            _current += Stopwatch.GetElapsedTime(t).TotalSeconds;
        }

        public void EndStep(bool timed)
        {
            if (timed) _perStep.Add(_current);
        }

        /// <summary>The scheduled work, run after every timed step (outside its timing) to measure it.</summary>
        public void RunScheduled(int step, Tacotron2Output output)
        {
            long t = Stopwatch.GetTimestamp();
            using (var scope = torch.NewDisposeScope())
            using (torch.no_grad())
            {
                foreach (var p in _parameters)
                    if (!torch.isfinite(p).all().item<bool>()) break;
            }
            _parameterChecks.Add(Stopwatch.GetElapsedTime(t).TotalSeconds);

            t = Stopwatch.GetTimestamp();
            var m = AlignmentMeasurement.FromTeacherForced(output, _batch, _r, step, "bench");
            _controller.OnAlignment(m);
            _analyzer.Add(m);
            _alignments.Add(Stopwatch.GetElapsedTime(t).TotalSeconds);
        }

        public HealthOverhead Summarize(double medianStep)
        {
            double perStep = MedianOf(_perStep);
            double parameterCheck = MedianOf(_parameterChecks);
            double alignment = MedianOf(_alignments);
            int everyP = _config.Health.ParameterCheckEverySteps;
            int everyA = _config.Training.AlignmentEverySteps;
            double amortized = perStep + (everyP > 0 ? parameterCheck / everyP : 0) + (everyA > 0 ? alignment / everyA : 0);
            double without = medianStep - perStep;
            return new HealthOverhead
            {
                PerStepSeconds = perStep, ParameterCheckSeconds = parameterCheck, ParameterCheckEverySteps = everyP,
                AlignmentSeconds = alignment, AlignmentEverySteps = everyA, AmortizedSeconds = amortized,
                OverheadPercent = without > 0 ? 100 * amortized / without : double.NaN,
            };
        }

        private static StepMetrics Metrics(int step, double mel, double post, double gate, double ga, double total, double gradNorm,
            double lr, bool skipped) => new()
        {
            Run = "bench", Step = step, Time = DateTimeOffset.UtcNow, LearningRate = lr, Loss = total, MelLoss = mel,
            MelPostnetLoss = post, GateLoss = gate, GuidedAttentionLoss = ga, GuidedAttentionWeight = 0, GradNorm = gradNorm,
            ClipThreshold = ClipThreshold, Skipped = skipped, BatchSize = 0,
        };
    }

    /// <summary>The model's forward arranged as <see cref="Tacotron2.Forward"/>, with timestamps and backward markers between the parts.</summary>
    private sealed class PhaseRunner
    {
        private readonly Tacotron2 _model;
        private readonly bool _plain;
        private readonly Embedding _embedding;
        private readonly Encoder _encoder;
        private readonly Decoder _decoder;
        private readonly Postnet _postnet;
        private long _encoded, _decoded;

        public PhaseRunner(Tacotron2 model, bool plain)
        {
            _model = model;
            _plain = plain;
            var children = model.named_children().ToDictionary(c => c.name, c => c.module, StringComparer.Ordinal);
            _embedding = (Embedding)children["embedding"];
            _encoder = (Encoder)children["encoder"];
            _decoder = (Decoder)children["decoder"];
            _postnet = (Postnet)children["postnet"];
        }

        /// <summary>Slot 0: gradient at the decoder's output complete; slot 1: at the encoder's output.</summary>
        public BackwardClock Clock { get; } = new(2);

        public Tacotron2Output Forward(TrainingBatch batch)
        {
            var memory = _encoder.call(_embedding.call(batch.Text).transpose(1, 2), batch.TextLengths);
            memory = PhaseMarker.Mark(memory, Clock, 1);
            _encoded = Stopwatch.GetTimestamp();
            var (mel, gateSteps, alignments) = _plain
                ? _decoder.ForwardPlain(memory, batch.Mels, batch.TextLengths)
                : _decoder.Forward(memory, batch.Mels, batch.TextLengths);
            mel = PhaseMarker.Mark(mel, Clock, 0);
            _decoded = Stopwatch.GetTimestamp();
            var valid = Masks.Valid(batch.MelLengths, mel.shape[2]);
            var frameMask = valid.unsqueeze(1).to_type(mel.dtype);
            var melMasked = mel.mul(frameMask);
            var post = melMasked.add(_postnet.call(melMasked, frameMask), Scalars.One).mul(frameMask);
            int r = _model.Options.NFramesPerStep;
            var gate = (r == 1 ? gateSteps : gateSteps.repeat_interleave(r, 1)).masked_fill(valid.logical_not(), Scalars.GatePadLogit);
            return new Tacotron2Output(melMasked, post, gate, alignments);
        }

        /// <summary>Seconds per phase from the step's timestamps (t0 forward start … t5 after the optimizer).</summary>
        public double[] Split(long t0, long t1, long t2, long t3, long t4, long t5) => new[]
        {
            Seconds(t0, _encoded), Seconds(_encoded, _decoded), Seconds(_decoded, t1), Seconds(t1, t2),
            Seconds(t2, Clock[0]), Seconds(Clock[0], Clock[1]), Seconds(Clock[1], t3), Seconds(t3, t4), Seconds(t4, t5),
        };

        public static PhaseTimes Summarize(List<double[]> samples)
        {
            double M(int k) => MedianOf(samples.Select(s => s[k]));
            return new PhaseTimes
            {
                EncoderForward = M(0), DecoderForward = M(1), PostnetForward = M(2), Loss = M(3), PostnetBackward = M(4),
                DecoderBackward = M(5), EncoderBackward = M(6), Clip = M(7), Optimizer = M(8),
            };
        }

        private static double Seconds(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalSeconds;
    }
}
