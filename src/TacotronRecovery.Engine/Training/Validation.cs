using System.Diagnostics;
using System.Globalization;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Health;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Engine.Inference;
using TacotronRecovery.Engine.Model;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Training;

/// <summary>
/// Validation, the way the model will be used: held-out sentences (the first <c>training.validation_sentences</c> of
/// the held-out split) decoded one at a time, free-running, the gate deciding the end, each scored for attention,
/// stop, length and MCD-DTW against its recording (<see cref="AttentionDiagnostics"/>). Plus the teacher-forced mel
/// loss over the held-out set (up to 8 batches). Runs under eval() and no_grad(); train() is restored after. Every
/// verdict (recovery stages, Done, the Success alert, Test-LossHealth's Ready) judges these records only.
/// </summary>
public static class Validation
{
    /// <summary>Runs validation and returns its metrics (Source = "validation").</summary>
    public static AlignmentMetrics Run(Tacotron2 model, IReadOnlyList<TrainingExample> validation, TacotronConfig config,
        Device device, int framesPerStep, int step, string run, IRunSink sink)
    {
        var clock = Stopwatch.StartNew();
        model.eval();
        try
        {
            double valMel = TeacherForcedMelLoss(model, validation, config, device, framesPerStep);
            var sentences = validation.Take(Math.Max(1, config.Training.ValidationSentences)).ToArray();
            var diagnostics = new AttentionDiagnostics(model, config.Data);
            var results = sentences
                .Select(e => diagnostics.Diagnose(new DiagnosticInput(e.Id, e.Id, e.TokenIds, e.Mel.Frames, e.Mel)))
                .ToList();

            var first = results[0];
            sink.AlignmentPlot(step, first.Alignment, first.AlignmentSteps, first.Tokens, $"{run} step {step}: {first.Id} (free-running)");

            var metrics = Summarise(results, framesPerStep, valMel) with { Run = run, Step = step, Time = DateTimeOffset.UtcNow };
            sink.Log(string.Create(CultureInfo.InvariantCulture,
                $"validation at step {step}: {results.Count} held-out sentences free-running in {clock.Elapsed.TotalSeconds:0.0} s"));
            return metrics;
        }
        finally
        {
            model.train();
        }
    }

    /// <summary>
    /// One validation record from per-sentence free-running results: attention means (each sentence weighs the same),
    /// the shares that stopped correctly and within ±10 % of their length, step-limit hits, mean MCD-DTW, the pooled
    /// free-running gate accuracy and the Quality of all of it.
    /// </summary>
    public static AlignmentMetrics Summarise(IReadOnlyList<UtteranceDiagnosis> results, int framesPerStep, double? validationMelLoss)
    {
        ArgumentNullException.ThrowIfNull(results);
        if (results.Count == 0) throw new ArgumentException("No sentences were decoded.", nameof(results));
        double Mean(Func<UtteranceDiagnosis, double> f) => results.Average(f);
        double Share(Func<UtteranceDiagnosis, bool> f) => (double)results.Count(f) / results.Count;
        double diagonality = Mean(d => d.Score.Diagonality), monotonicity = Mean(d => d.Score.Monotonicity);
        double stop = Share(d => d.StopCorrect == true), within = Share(d => d.LengthWithin10 == true);
        int hits = results.Count(d => d.HitMaxSteps);
        var mcds = results.Where(d => d.McdDtw is double v && double.IsFinite(v)).Select(d => d.McdDtw!.Value).ToList();
        double? mcd = mcds.Count > 0 ? mcds.Average() : null;
        var trueSteps = results.Select(d => ((d.TrueFrames ?? d.PredictedFrames) + framesPerStep - 1) / framesPerStep).ToArray();
        double gate = GateMetrics.FreeRunningBalancedAccuracy(results.Select(d => d.GateLogits ?? []).ToArray(), trueSteps);
        return new AlignmentMetrics
        {
            Source = AlignmentMetrics.Sources.Validation,
            Sentences = results.Count,
            Diagonality = diagonality,
            FocusRate = Mean(d => d.Score.FocusRate),
            Coverage = Mean(d => d.Score.Coverage),
            Monotonicity = monotonicity,
            GateAccuracy = gate,
            EndStallRate = Share(d => d.Score.EndStall),
            StallRate = Share(d => d.StoppedBy == StopReason.Stall),
            StopAccuracy = stop,
            LengthWithin10 = within,
            StepLimitHits = hits,
            McdDtw = mcd,
            ValidationMelLoss = validationMelLoss,
            Quality = QualityScore.Compute(diagonality, gate, monotonicity, stop, validationMelLoss, within, mcd),
        };
    }

    /// <summary>Teacher-forced mel loss (after the postnet) over up to 8 batches of the held-out set.</summary>
    private static double TeacherForcedMelLoss(Tacotron2 model, IReadOnlyList<TrainingExample> validation, TacotronConfig config,
        Device device, int framesPerStep)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var loss = new Tacotron2Loss(config.Training.GatePosWeight, config.GuidedAttention.Sigma);
        double melSum = 0; int batches = 0;
        int batchSize = Math.Max(1, Math.Min(config.Training.BatchSize, validation.Count));
        for (int i = 0; i < validation.Count && batches < 8; i += batchSize, batches++)
        {
            using var inner = NewDisposeScope();
            using var batch = TrainingBatch.Collate(validation.Skip(i).Take(batchSize).ToArray(), framesPerStep, device);
            var output = model.Forward(batch.Text, batch.TextLengths, batch.Mels, batch.MelLengths);
            var l = loss.Compute(output, batch.Mels, batch.GateTargets, batch.MelLengths, batch.TextLengths, 0.0, framesPerStep);
            melSum += l.MelPostnet.item<float>();
        }
        return melSum / Math.Max(1, batches);
    }
}
