using TacotronRecovery.Core.Health;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Engine.Model;

namespace TacotronRecovery.Engine.Training;

/// <summary>Turns model outputs into <see cref="AlignmentMetrics"/> (copies to the CPU once, scores in Core).</summary>
public static class AlignmentMeasurement
{
    /// <summary>Metrics of a teacher-forced training batch: alignment scores and balanced gate accuracy.</summary>
    public static AlignmentMetrics FromTeacherForced(Tacotron2Output output, TrainingBatch batch, int framesPerStep, int step, string run)
    {
        var (alignments, maxSteps, maxTokens) = ToHost(output.Alignments);
        var stepLengths = batch.Frames.Select(f => Math.Min(maxSteps, (f + framesPerStep - 1) / framesPerStep)).ToArray();
        var score = AlignmentScorer.ScoreBatch(alignments, maxSteps, maxTokens, stepLengths, batch.Tokens);
        var gateLogits = output.GateOutputs.detach().cpu().to(TorchSharp.torch.ScalarType.Float32).data<float>().ToArray();
        var gateTargets = batch.GateTargets.detach().cpu().data<float>().ToArray();
        double gateAccuracy = GateMetrics.BalancedAccuracy(gateLogits, gateTargets, batch.Frames);
        return new AlignmentMetrics
        {
            Run = run, Step = step, Time = DateTimeOffset.UtcNow, Source = "train",
            Diagonality = score.Diagonality, FocusRate = score.FocusRate, Coverage = score.Coverage,
            Monotonicity = score.Monotonicity, GateAccuracy = gateAccuracy, EndStallRate = score.EndStallRate,
            Quality = QualityScore.Compute(score.Diagonality, gateAccuracy, score.Monotonicity),
        };
    }

    /// <summary>A [B, T_dec, N] tensor as a row-major host array.</summary>
    public static (float[] Data, int Steps, int Tokens) ToHost(TorchSharp.torch.Tensor alignments)
    {
        using var cpu = alignments.detach().to(TorchSharp.torch.ScalarType.Float32).cpu().contiguous();
        return (cpu.data<float>().ToArray(), (int)cpu.shape[1], (int)cpu.shape[2]);
    }
}
