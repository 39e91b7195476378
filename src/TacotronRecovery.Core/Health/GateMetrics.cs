namespace TacotronRecovery.Core.Health;

/// <summary>
/// Gate (stop-token) metrics. Plain accuracy is useless for the gate: with one positive frame per utterance,
/// "never stop" is 99 % accurate. These measure what matters.
/// </summary>
public static class GateMetrics
{
    /// <summary>Smallest tolerance, in decoder steps, of <see cref="StopsCorrectly"/>.</summary>
    public const int StopToleranceSteps = 3;

    /// <summary>Relative tolerance of <see cref="StopsCorrectly"/> (5 % of the true length).</summary>
    public const double StopToleranceShare = 0.05;

    /// <summary>
    /// Balanced accuracy of the gate on valid frames: the mean of stop-recall (frames with target ≥ 0.5 predicted as
    /// stop, i.e. logit &gt; 0 ⇔ sigmoid &gt; 0.5) and continue-recall (frames with target &lt; 0.5 predicted as continue).
    /// When a batch has frames of one class only, that class's recall is the result. Never stopping scores 0.5.
    /// </summary>
    /// <param name="logits">Gate logits, row-major [batch, maxFrames].</param>
    /// <param name="targets">Gate targets (0 continue, 1 stop), same shape.</param>
    /// <param name="lengths">Valid frames of each utterance; frames at or beyond it are padding and ignored.</param>
    /// <returns>0..1.</returns>
    /// <exception cref="ArgumentException">Shapes do not fit, or there is no valid frame.</exception>
    public static double BalancedAccuracy(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, ReadOnlySpan<int> lengths)
    {
        int b = lengths.Length;
        if (b == 0) throw new ArgumentException("No utterances.", nameof(lengths));
        if (logits.Length != targets.Length) throw new ArgumentException($"{logits.Length} logits but {targets.Length} targets.", nameof(targets));
        if (logits.Length % b != 0) throw new ArgumentException($"{logits.Length} logits do not split into {b} utterances.", nameof(logits));
        int maxFrames = logits.Length / b;
        long pos = 0, neg = 0, truePos = 0, trueNeg = 0;
        for (int u = 0; u < b; u++)
        {
            int len = lengths[u];
            if (len < 0 || len > maxFrames) throw new ArgumentOutOfRangeException(nameof(lengths), len, $"Utterance {u}: length must be in 0..{maxFrames}.");
            for (int t = 0; t < len; t++)
            {
                bool stop = logits[u * maxFrames + t] > 0;
                if (targets[u * maxFrames + t] >= 0.5f) { pos++; if (stop) truePos++; }
                else { neg++; if (!stop) trueNeg++; }
            }
        }
        if (pos + neg == 0) throw new ArgumentException("No valid frames: every length is 0.", nameof(lengths));
        if (pos == 0) return (double)trueNeg / neg;
        if (neg == 0) return (double)truePos / pos;
        return 0.5 * ((double)truePos / pos + (double)trueNeg / neg);
    }

    /// <summary>
    /// True when a free-running utterance stopped within ±max(3 steps, 5 % of <paramref name="trueLength"/>) of the true
    /// end and its attention reached the last tokens.
    /// </summary>
    /// <param name="predictedLength">Decoder steps generated until the gate fired (null or ≤ 0: it never fired).</param>
    /// <param name="trueLength">Decoder steps of the reference audio.</param>
    /// <param name="attentionReachedEnd">Whether the attention reached the last tokens (<see cref="AlignmentScore.ReachedEnd"/>).</param>
    public static bool StopsCorrectly(int? predictedLength, int trueLength, bool attentionReachedEnd)
    {
        if (predictedLength is not > 0 || trueLength <= 0 || !attentionReachedEnd) return false;
        double tolerance = Math.Max(StopToleranceSteps, StopToleranceShare * trueLength);
        return Math.Abs(predictedLength.Value - trueLength) <= tolerance;
    }

    /// <summary>StopAccuracy: share of utterances for which <see cref="StopsCorrectly"/> holds.</summary>
    /// <param name="predictedLengths">Decoder steps generated until the gate fired (null or ≤ 0: never fired, e.g. hit the step limit).</param>
    /// <param name="trueLengths">Decoder steps of the reference audio.</param>
    /// <param name="attentionReachedEnd">Whether each utterance's attention reached the last tokens.</param>
    /// <returns>0..1.</returns>
    /// <exception cref="ArgumentException">The three lists differ in length or are empty.</exception>
    public static double StopAccuracy(IReadOnlyList<int?> predictedLengths, IReadOnlyList<int> trueLengths, IReadOnlyList<bool> attentionReachedEnd)
    {
        ArgumentNullException.ThrowIfNull(predictedLengths);
        ArgumentNullException.ThrowIfNull(trueLengths);
        ArgumentNullException.ThrowIfNull(attentionReachedEnd);
        int n = predictedLengths.Count;
        if (n == 0) throw new ArgumentException("No utterances.", nameof(predictedLengths));
        if (trueLengths.Count != n || attentionReachedEnd.Count != n)
            throw new ArgumentException($"{n} predicted lengths, {trueLengths.Count} true lengths, {attentionReachedEnd.Count} attention flags.", nameof(trueLengths));
        int ok = 0;
        for (int i = 0; i < n; i++) if (StopsCorrectly(predictedLengths[i], trueLengths[i], attentionReachedEnd[i])) ok++;
        return (double)ok / n;
    }

    /// <summary>Relative tolerance of <see cref="LengthWithin"/>: ±10 % of the true length.</summary>
    public const double LengthTolerance = 0.10;

    /// <summary>
    /// True when a free-running utterance ended (its gate fired) within ±<paramref name="tolerance"/> of the
    /// recording's length, both in mel frames. An utterance that never stopped (null, ≤ 0) is not within.
    /// </summary>
    /// <param name="predictedFrames">Frames generated until the gate fired; null when it never fired (step limit).</param>
    /// <param name="trueFrames">Frames of the recording.</param>
    /// <param name="tolerance">Relative tolerance (default <see cref="LengthTolerance"/>).</param>
    public static bool LengthWithin(int? predictedFrames, int trueFrames, double tolerance = LengthTolerance)
    {
        if (predictedFrames is not > 0 || trueFrames <= 0) return false;
        return Math.Abs(predictedFrames.Value - trueFrames) <= tolerance * trueFrames;
    }

    /// <summary>
    /// Balanced gate accuracy of free-running decoding (<see cref="BalancedAccuracy"/>'s rule: stop ⇔ logit &gt; 0),
    /// per utterance, then averaged (each utterance weighs the same, so one that runs to the step limit does not
    /// drown the others): decoder step t is a stop step when t ≥ its true length in steps − 1. Steps after the decoder
    /// stopped, up to the true end, count as predicted stops (stopping early costs one false stop per missing step);
    /// one that never stops scores every generated step from its true end on as a missed stop. Never stopping scores
    /// 0.5, stopping exactly at the true end 1, stopping k steps late (1 + 1/(k+1)) / 2.
    /// </summary>
    /// <param name="stepLogits">Per utterance, the gate logit of each generated decoder step (up to and including the one that fired).</param>
    /// <param name="trueSteps">Per utterance, the recording's length in decoder steps (≥ 1).</param>
    /// <returns>0..1.</returns>
    /// <exception cref="ArgumentException">The lists differ in length or are empty.</exception>
    public static double FreeRunningBalancedAccuracy(IReadOnlyList<float[]> stepLogits, IReadOnlyList<int> trueSteps)
    {
        ArgumentNullException.ThrowIfNull(stepLogits);
        ArgumentNullException.ThrowIfNull(trueSteps);
        if (stepLogits.Count == 0) throw new ArgumentException("No utterances.", nameof(stepLogits));
        if (stepLogits.Count != trueSteps.Count)
            throw new ArgumentException($"{stepLogits.Count} logit rows but {trueSteps.Count} true lengths.", nameof(trueSteps));
        double sum = 0;
        for (int u = 0; u < stepLogits.Count; u++)
        {
            int end = Math.Max(1, trueSteps[u]) - 1;
            var logits = stepLogits[u] ?? [];
            int span = Math.Max(logits.Length, end + 1);
            long pos = 0, neg = 0, truePos = 0, trueNeg = 0;
            for (int t = 0; t < span; t++)
            {
                bool stop = t >= logits.Length || logits[t] > 0;
                if (t >= end) { pos++; if (stop) truePos++; }
                else { neg++; if (!stop) trueNeg++; }
            }
            sum += neg == 0 ? (double)truePos / pos : 0.5 * ((double)truePos / pos + (double)trueNeg / neg);
        }
        return sum / stepLogits.Count;
    }
}
