namespace TacotronRecovery.Core.Health;

/// <summary>
/// Mel cepstral distortion with dynamic time warping (MCD-DTW, dB) between two of our log-mel spectrograms (natural
/// log of the 80-band magnitude mel, <see cref="Audio.MelSpectrogram"/>): the standard objective TTS figure, computed
/// from our mel rather than from WORLD/SPTK mel-cepstra, so absolute values are not comparable with papers.
/// <code>
/// c[n] = (1/K) · Σ_k x[k] · cos(π n (k + ½) / K)     n = 1..13  (K mel bands; DCT-II scaled as the real cepstrum
///                                                                 of the even-extended log spectrum; c0, the level, dropped)
/// d(i, j) = 10/ln 10 · sqrt(2 · Σ_n (c_a[i, n] − c_b[j, n])²)        dB, per frame pair
/// MCD-DTW = mean of d over the DTW path (steps (1,0), (0,1), (1,1), minimising Σ d; path from (0,0) to (T_a−1, T_b−1))
/// </code>
/// Identical mels give 0 dB. Cost O(T_a·T_b) time and memory for the path (a 400 × 130 pair: ~50 k cells).
/// </summary>
public static class MelCepstralDistortion
{
    /// <summary>Cepstral coefficients compared (c1..c13), the usual MCD choice.</summary>
    public const int DefaultCoefficients = 13;

    private static readonly double DbFactor = 10.0 / Math.Log(10) * Math.Sqrt(2);

    /// <summary>
    /// Mel cepstra c1..c<paramref name="coefficients"/> of a log-mel spectrogram laid out channel-major
    /// ([<paramref name="channels"/>, <paramref name="frames"/>] row-major, as <see cref="Audio.Mel"/> and the model
    /// output), as a frame-major [frames, coefficients] array.
    /// </summary>
    /// <param name="logMel">Natural-log mel spectrogram, channel-major.</param>
    /// <param name="channels">Mel bands K.</param>
    /// <param name="frames">Frames.</param>
    /// <param name="coefficients">Coefficients kept after c0 (1..K−1).</param>
    public static double[] Cepstra(ReadOnlySpan<float> logMel, int channels, int frames, int coefficients = DefaultCoefficients)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(frames, 0);
        if (coefficients < 1 || coefficients >= channels)
            throw new ArgumentOutOfRangeException(nameof(coefficients), coefficients, $"Coefficients must be in 1..{channels - 1}.");
        if (logMel.Length < (long)channels * frames)
            throw new ArgumentException($"{logMel.Length} values are fewer than {channels} × {frames}.", nameof(logMel));
        var basis = new double[coefficients * channels];
        for (int n = 0; n < coefficients; n++)
            for (int k = 0; k < channels; k++)
                basis[n * channels + k] = Math.Cos(Math.PI * (n + 1) * (k + 0.5) / channels) / channels;
        var result = new double[frames * coefficients];
        for (int t = 0; t < frames; t++)
        {
            for (int n = 0; n < coefficients; n++)
            {
                double sum = 0;
                for (int k = 0; k < channels; k++) sum += basis[n * channels + k] * logMel[k * frames + t];
                result[t * coefficients + n] = sum;
            }
        }
        return result;
    }

    /// <summary>
    /// MCD-DTW in dB between two log-mel spectrograms (channel-major, same number of bands). NaN when either has no
    /// frame or holds a non-finite value.
    /// </summary>
    /// <param name="predicted">Predicted log mel, [channels, predictedFrames].</param>
    /// <param name="predictedFrames">Frames of <paramref name="predicted"/> to compare (e.g. up to where the gate fired).</param>
    /// <param name="reference">Reference log mel (the recording), [channels, referenceFrames].</param>
    /// <param name="referenceFrames">Frames of <paramref name="reference"/>.</param>
    /// <param name="channels">Mel bands.</param>
    /// <param name="coefficients">Cepstral coefficients after c0 (at most channels − 1 are used).</param>
    public static double Compute(ReadOnlySpan<float> predicted, int predictedFrames, ReadOnlySpan<float> reference, int referenceFrames,
        int channels, int coefficients = DefaultCoefficients)
    {
        if (predictedFrames <= 0 || referenceFrames <= 0) return double.NaN;
        coefficients = Math.Min(coefficients, channels - 1); // fewer bands than 14 (test models) keep what there is
        var a = Cepstra(predicted, channels, predictedFrames, coefficients);
        var b = Cepstra(reference, channels, referenceFrames, coefficients);
        return Dtw(a, predictedFrames, b, referenceFrames, coefficients);
    }

    /// <summary>
    /// MCD-DTW of two cepstral sequences (frame-major [frames, coefficients]): the mean per-frame-pair distortion
    /// along the minimum-cost DTW path. NaN when a value is not finite.
    /// </summary>
    public static double Dtw(double[] a, int framesA, double[] b, int framesB, int coefficients)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (framesA <= 0 || framesB <= 0) return double.NaN;
        // cost[i, j] = minimal summed distance of a path to (i, j); steps[i, j] = its length in frame pairs.
        var cost = new double[framesA * framesB];
        var steps = new int[framesA * framesB];
        for (int i = 0; i < framesA; i++)
        {
            for (int j = 0; j < framesB; j++)
            {
                double d = Distance(a, i, b, j, coefficients);
                if (!double.IsFinite(d)) return double.NaN;
                int at = i * framesB + j;
                if (i == 0 && j == 0) { cost[at] = d; steps[at] = 1; continue; }
                double best = double.PositiveInfinity; int bestSteps = 0;
                if (i > 0 && j > 0) Consider(at - framesB - 1, ref best, ref bestSteps);
                if (i > 0) Consider(at - framesB, ref best, ref bestSteps);
                if (j > 0) Consider(at - 1, ref best, ref bestSteps);
                cost[at] = best + d;
                steps[at] = bestSteps + 1;
            }
        }
        int last = framesA * framesB - 1;
        return cost[last] / steps[last];

        void Consider(int from, ref double best, ref int bestSteps)
        {
            // Ties prefer the diagonal (considered first) and then shorter paths.
            if (cost[from] < best || (cost[from] == best && steps[from] < bestSteps)) { best = cost[from]; bestSteps = steps[from]; }
        }
    }

    /// <summary>Per-frame distortion in dB: 10/ln 10 · sqrt(2 · Σ Δc²).</summary>
    private static double Distance(double[] a, int i, double[] b, int j, int coefficients)
    {
        double sum = 0;
        int ai = i * coefficients, bj = j * coefficients;
        for (int n = 0; n < coefficients; n++)
        {
            double diff = a[ai + n] - b[bj + n];
            sum += diff * diff;
        }
        return DbFactor * Math.Sqrt(sum);
    }
}
