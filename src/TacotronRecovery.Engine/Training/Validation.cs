using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Health;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Engine.Model;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Training;

/// <summary>
/// Validation: teacher-forced losses over the held-out set, then free-running synthesis of a few held-out sentences
/// scored for alignment, stop accuracy and quality. Runs under eval() and no_grad(); train() is restored after.
/// </summary>
public static class Validation
{
    /// <summary>Runs validation and returns its metrics (Source = "validation").</summary>
    public static AlignmentMetrics Run(Tacotron2 model, IReadOnlyList<TrainingExample> validation, TacotronConfig config,
        Device device, int framesPerStep, int step, string run, IRunSink sink)
    {
        model.eval();
        try
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
            double valMel = melSum / Math.Max(1, batches);

            var sentences = validation.Take(Math.Max(1, config.Training.ValidationSentences)).ToArray();
            using var text = TrainingBatch.Collate(sentences, framesPerStep, device);
            var inference = model.Infer(text.Text, text.TextLengths);
            var (alignments, maxSteps, maxTokens) = AlignmentMeasurement.ToHost(inference.Alignments);
            var stepLengths = inference.Lengths.Select(l => Math.Clamp((l + framesPerStep - 1) / framesPerStep, 1, maxSteps)).ToArray();
            var score = AlignmentScorer.ScoreBatch(alignments, maxSteps, maxTokens, stepLengths, text.Tokens);
            // Stop accuracy is judged in decoder steps (DESIGN.md: within ±max(3 steps, 5 %) of the true end).
            var predicted = inference.Lengths.Select((l, i) => inference.HitMaxSteps[i] ? (int?)null : (l + framesPerStep - 1) / framesPerStep).ToArray();
            var trueSteps = text.Frames.Select(f => (f + framesPerStep - 1) / framesPerStep).ToArray();
            double stopAccuracy = GateMetrics.StopAccuracy(predicted, trueSteps, score.Items.Select(s => s.ReachedEnd).ToArray());

            // Teacher-forced gate accuracy on the same sentences.
            var tf = model.Forward(text.Text, text.TextLengths, text.Mels, text.MelLengths);
            var gateLogits = tf.GateOutputs.cpu().data<float>().ToArray();
            var gateTargets = text.GateTargets.cpu().data<float>().ToArray();
            double gateAccuracy = GateMetrics.BalancedAccuracy(gateLogits, gateTargets, text.Frames);

            var first = score.Items[0];
            var plot = new float[first.Steps * first.Tokens];
            for (int t = 0; t < first.Steps; t++)
                Array.Copy(alignments, t * maxTokens, plot, t * first.Tokens, first.Tokens);
            sink.AlignmentPlot(step, plot, first.Steps, first.Tokens, $"{run} step {step}: {sentences[0].Id} (free-running)");

            return new AlignmentMetrics
            {
                Run = run, Step = step, Time = DateTimeOffset.UtcNow, Source = "validation",
                Diagonality = score.Diagonality, FocusRate = score.FocusRate, Coverage = score.Coverage,
                Monotonicity = score.Monotonicity, GateAccuracy = gateAccuracy, EndStallRate = score.EndStallRate, StopAccuracy = stopAccuracy,
                ValidationMelLoss = valMel,
                Quality = QualityScore.Compute(score.Diagonality, gateAccuracy, score.Monotonicity, stopAccuracy, valMel),
            };
        }
        finally
        {
            model.train();
        }
    }
}
