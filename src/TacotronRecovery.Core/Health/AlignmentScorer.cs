using System.Buffers;

namespace TacotronRecovery.Core.Health;

/// <summary>
/// Scores attention alignments A[i, j] (decoder step i, token j) held as row-major <c>float</c> arrays of a padded
/// [maxSteps, maxTokens] matrix, on the valid steps and tokens only. Each valid row is renormalised to sum to 1
/// (a row of zeros counts as no attention). Pure C#, no allocation beyond pooled buffers; cost O(steps · tokens).
/// </summary>
/// <remarks>
/// <para><b>Diagonality</b> (0..1), T = valid steps, N = valid tokens:</para>
/// <list type="number">
/// <item>Best monotonic path: dynamic programming over paths that start at token 0 on step 0, end at token N−1 on
/// step T−1 and move +0, +1 or +2 tokens per step, maximising the summed attention A[i, p(i)]. When N−1 &gt; 2(T−1)
/// no such path exists; the largest move is then raised to ⌈(N−1)/(T−1)⌉. With T = 1 the path is the row's argmax.</item>
/// <item>Band: w = max(1, round(0.05 · N)), halves rounded to even as Python and NumPy do (N = 50 → w = 2, N = 70 → w = 4). Per step, mass_i = Σ A[i, j] over
/// |j − p(i)| ≤ w, and band_i = the number of tokens in that window after clipping at 0 and N−1.</item>
/// <item>mass = mean_i mass_i; chance = mean_i band_i / N (what uniform attention gets);
/// corrected = clamp((mass − chance) / (1 − chance), 0, 1). When the band covers every token (chance = 1)
/// the band says nothing and corrected = 1.</item>
/// <item>Token coverage = share of tokens j with Σ_i A[i, j] ≥ 0.5. Only when N &gt; 2T (then even perfect
/// attention cannot give every token 0.5) the threshold becomes T/N.</item>
/// <item>Diagonality = corrected · token coverage.</item>
/// </list>
/// <para><b>FocusRate</b> = mean_i max_j A[i, j]. <b>Coverage</b> = mean_j max_i A[i, j].
/// <b>Monotonicity</b> = share of steps i ≥ 1 with argmax_j A[i, j] ≥ argmax_j A[i−1, j] (1 when T = 1).</para>
/// <para><b>End-of-sentence stall</b>: the tail = the steps at the end during which the argmax stays within the last
/// w tokens. Stall when tail / T ≥ max(<see cref="EndStallMinShare"/>, 3·w/N): attention got to the end of the text long
/// before the audio ended and stayed there.</para>
/// </remarks>
public static class AlignmentScorer
{
    /// <summary>Band half-width as a share of the tokens (5 %).</summary>
    public const double BandShare = 0.05;

    /// <summary>Column sum a token needs to count as covered.</summary>
    public const double CoverageThreshold = 0.5;

    /// <summary>Smallest share of the decoder steps spent on the last tokens that counts as an end-of-sentence stall.</summary>
    public const double EndStallMinShare = 0.2;

    /// <summary>Band half-width w = max(1, round(0.05 · tokens)), halves rounded to even.</summary>
    /// <param name="tokens">Valid tokens.</param>
    public static int BandHalfWidth(int tokens) =>
        Math.Max(1, (int)Math.Round(BandShare * tokens, MidpointRounding.ToEven));

    /// <summary>Scores one alignment that fills its whole array (<paramref name="steps"/> × <paramref name="tokens"/>).</summary>
    /// <param name="alignment">Row-major [steps, tokens].</param>
    /// <param name="steps">Decoder steps.</param>
    /// <param name="tokens">Tokens.</param>
    public static AlignmentScore Score(ReadOnlySpan<float> alignment, int steps, int tokens) =>
        Score(alignment, steps, tokens, steps, tokens);

    /// <summary>Scores the valid [<paramref name="steps"/>, <paramref name="tokens"/>] corner of a padded alignment.</summary>
    /// <param name="alignment">Row-major [maxSteps, maxTokens].</param>
    /// <param name="maxSteps">Padded decoder steps (rows).</param>
    /// <param name="maxTokens">Padded tokens (row stride).</param>
    /// <param name="steps">Valid decoder steps (1..maxSteps).</param>
    /// <param name="tokens">Valid tokens (1..maxTokens).</param>
    /// <exception cref="ArgumentException">Shapes or lengths do not fit.</exception>
    public static AlignmentScore Score(ReadOnlySpan<float> alignment, int maxSteps, int maxTokens, int steps, int tokens)
    {
        if (maxSteps < 1 || maxTokens < 1 || (long)maxSteps * maxTokens != alignment.Length)
            throw new ArgumentException($"Alignment has {alignment.Length} values, expected {maxSteps}x{maxTokens}.", nameof(alignment));
        if (steps < 1 || steps > maxSteps) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"Valid steps must be in 1..{maxSteps}.");
        if (tokens < 1 || tokens > maxTokens) throw new ArgumentOutOfRangeException(nameof(tokens), tokens, $"Valid tokens must be in 1..{maxTokens}.");

        int T = steps, N = tokens, stride = maxTokens;
        var rowScale = ArrayPool<double>.Shared.Rent(T);
        var colSum = ArrayPool<double>.Shared.Rent(N);
        var colMax = ArrayPool<double>.Shared.Rent(N);
        var argmax = ArrayPool<int>.Shared.Rent(T);
        var path = ArrayPool<int>.Shared.Rent(T);
        try
        {
            Array.Clear(colSum, 0, N);
            Array.Clear(colMax, 0, N);
            double focus = 0;
            for (int i = 0; i < T; i++)
            {
                var row = alignment.Slice(i * stride, N);
                double sum = 0;
                foreach (var v in row) sum += v > 0 && float.IsFinite(v) ? v : 0;
                double scale = sum > 0 ? 1 / sum : 0;
                rowScale[i] = scale;
                int best = 0; double bestV = -1;
                for (int j = 0; j < N; j++)
                {
                    double a = A(row[j], scale);
                    colSum[j] += a;
                    if (a > colMax[j]) colMax[j] = a;
                    if (a > bestV) { bestV = a; best = j; }
                }
                argmax[i] = best;
                focus += Math.Max(0, bestV);
            }

            BestPath(alignment, stride, T, N, rowScale, path);

            int w = BandHalfWidth(N);
            double mass = 0, chance = 0;
            for (int i = 0; i < T; i++)
            {
                int lo = Math.Max(0, path[i] - w), hi = Math.Min(N - 1, path[i] + w);
                var row = alignment.Slice(i * stride, N);
                double m = 0;
                for (int j = lo; j <= hi; j++) m += A(row[j], rowScale[i]);
                mass += m;
                chance += (hi - lo + 1) / (double)N;
            }
            mass /= T; chance /= T;
            double corrected = chance >= 1 - 1e-12 ? 1 : Math.Clamp((mass - chance) / (1 - chance), 0, 1);

            double threshold = N > 2 * T ? (double)T / N : CoverageThreshold;
            int covered = 0; double coverage = 0;
            for (int j = 0; j < N; j++)
            {
                if (colSum[j] >= threshold - 1e-6) covered++;
                coverage += colMax[j];
            }
            double tokenCoverage = (double)covered / N;

            int forward = 0;
            for (int i = 1; i < T; i++) if (argmax[i] >= argmax[i - 1]) forward++;
            double monotonicity = T > 1 ? (double)forward / (T - 1) : 1;

            int endFrom = N - w;
            bool reached = false;
            for (int i = 0; i < T && !reached; i++) reached = argmax[i] >= endFrom;
            int tail = 0;
            for (int i = T - 1; i >= 0 && argmax[i] >= endFrom; i--) tail++;
            bool stall = N > w && tail >= Math.Max(EndStallMinShare, 3.0 * w / N) * T;

            return new AlignmentScore
            {
                Steps = T,
                Tokens = N,
                Diagonality = corrected * tokenCoverage,
                BandMass = mass,
                ChanceMass = chance,
                TokenCoverage = tokenCoverage,
                BandHalfWidth = w,
                FocusRate = focus / T,
                Coverage = coverage / N,
                Monotonicity = monotonicity,
                ReachedEnd = reached,
                EndTailSteps = tail,
                EndStall = stall,
            };
        }
        finally
        {
            ArrayPool<double>.Shared.Return(rowScale);
            ArrayPool<double>.Shared.Return(colSum);
            ArrayPool<double>.Shared.Return(colMax);
            ArrayPool<int>.Shared.Return(argmax);
            ArrayPool<int>.Shared.Return(path);
        }
    }

    /// <summary>
    /// Scores every utterance of a padded batch [batch, maxSteps, maxTokens] (row-major) and averages the metrics,
    /// each utterance weighing the same.
    /// </summary>
    /// <param name="alignments">Row-major [batch, maxSteps, maxTokens].</param>
    /// <param name="maxSteps">Padded decoder steps.</param>
    /// <param name="maxTokens">Padded tokens.</param>
    /// <param name="stepLengths">Valid decoder steps of each utterance.</param>
    /// <param name="tokenLengths">Valid tokens of each utterance.</param>
    /// <exception cref="ArgumentException">Shapes or lengths do not fit.</exception>
    public static AlignmentBatchScore ScoreBatch(ReadOnlySpan<float> alignments, int maxSteps, int maxTokens,
        ReadOnlySpan<int> stepLengths, ReadOnlySpan<int> tokenLengths)
    {
        int b = stepLengths.Length;
        if (b == 0) throw new ArgumentException("A batch needs at least one utterance.", nameof(stepLengths));
        if (tokenLengths.Length != b) throw new ArgumentException($"{tokenLengths.Length} token lengths for {b} step lengths.", nameof(tokenLengths));
        long size = (long)maxSteps * maxTokens;
        if (size * b != alignments.Length)
            throw new ArgumentException($"Alignments have {alignments.Length} values, expected {b}x{maxSteps}x{maxTokens}.", nameof(alignments));

        var items = new AlignmentScore[b];
        double d = 0, f = 0, c = 0, m = 0, reached = 0, stall = 0;
        for (int k = 0; k < b; k++)
        {
            var s = Score(alignments.Slice((int)(k * size), (int)size), maxSteps, maxTokens, stepLengths[k], tokenLengths[k]);
            items[k] = s;
            d += s.Diagonality; f += s.FocusRate; c += s.Coverage; m += s.Monotonicity;
            if (s.ReachedEnd) reached++;
            if (s.EndStall) stall++;
        }
        return new AlignmentBatchScore
        {
            Utterances = b,
            Diagonality = d / b,
            FocusRate = f / b,
            Coverage = c / b,
            Monotonicity = m / b,
            ReachedEndRate = reached / b,
            EndStallRate = stall / b,
            Items = items,
        };
    }

    private static double A(float v, double scale) => v > 0 && float.IsFinite(v) ? v * scale : 0;

    /// <summary>Best monotonic path from (0, 0) to (T−1, N−1); writes p(i) into <paramref name="path"/>.</summary>
    private static void BestPath(ReadOnlySpan<float> alignment, int stride, int T, int N, double[] rowScale, int[] path)
    {
        if (T == 1)
        {
            var row = alignment[..N];
            int best = 0;
            for (int j = 1; j < N; j++) if (row[j] > row[best]) best = j;
            path[0] = best;
            return;
        }
        int maxMove = Math.Max(2, (int)Math.Ceiling((N - 1) / (double)(T - 1)));
        var prev = ArrayPool<double>.Shared.Rent(N);
        var cur = ArrayPool<double>.Shared.Rent(N);
        var back = ArrayPool<ushort>.Shared.Rent(T * N);
        try
        {
            Array.Fill(prev, double.NegativeInfinity, 0, N);
            prev[0] = A(alignment[0], rowScale[0]);
            for (int i = 1; i < T; i++)
            {
                var row = alignment.Slice(i * stride, N);
                // Tokens reachable at step i from token 0 and still able to reach N−1 by step T−1.
                int hi = (int)Math.Min(N - 1, (long)i * maxMove);
                int lo = (int)Math.Max(0, N - 1 - (long)(T - 1 - i) * maxMove);
                for (int j = 0; j < N; j++)
                {
                    if (j < lo || j > hi) { cur[j] = double.NegativeInfinity; continue; }
                    double best = double.NegativeInfinity; int move = 0;
                    for (int k = 0; k <= maxMove && k <= j; k++)
                    {
                        double p = prev[j - k];
                        if (p > best) { best = p; move = k; }
                    }
                    cur[j] = best + A(row[j], rowScale[i]);
                    back[i * N + j] = (ushort)move;
                }
                (prev, cur) = (cur, prev);
            }
            int t = N - 1;
            for (int i = T - 1; i > 0; i--)
            {
                path[i] = t;
                t -= back[i * N + t];
            }
            path[0] = t;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(prev);
            ArrayPool<double>.Shared.Return(cur);
            ArrayPool<ushort>.Shared.Return(back);
        }
    }
}
