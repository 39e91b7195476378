using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Core.Audio;

/// <summary>
/// Turns a log-mel spectrogram back into audio for listening, as the NVIDIA reference notebook does, without a
/// neural vocoder:
/// <list type="number">
/// <item>mel → linear magnitude: exp(mel), times the (Tikhonov-regularised, λ = 1e-4·max diag) pseudo-inverse of the
/// mel filterbank, negative values clamped to 0 (bins above mel_fmax stay 0);</item>
/// <item>magnitude raised to the power 1.5 (as the reference Tacotron's griffin_lim usage) to sharpen harmonics
/// against the smearing of the inversion, rescaled to keep its peak: T = Smax·(S/Smax)^1.5;</item>
/// <item>Griffin-Lim: seeded random phases, then <c>iterations</c> rounds of ISTFT → STFT keeping only the phase;
/// STFT as in <see cref="MelSpectrogram"/> (centre reflect padding, periodic Hann); ISTFT by overlap-add divided by
/// the window-sum-square wherever it is non-zero, centre padding removed;</item>
/// <item>if the peak exceeds 0.99 the whole signal is scaled down to a 0.99 peak (never clipped).</item>
/// </list>
/// Output length is (Frames − 1)·hop samples at options.SampleRate. Deterministic for a given seed. Thread-safe.
/// </summary>
public static class GriffinLim
{
    /// <summary>Exponent applied to the magnitude before phase reconstruction.</summary>
    internal const double Power = 1.5;

    /// <summary>Momentum of the fast Griffin-Lim update (0 = the classic algorithm).</summary>
    internal const double Momentum = 0.99;

    /// <summary>Reconstructs a waveform from a log-mel spectrogram.</summary>
    /// <param name="mel">Log-mel spectrogram (as <see cref="MelSpectrogram.Compute"/> makes it); non-finite values
    /// are treated as silence.</param>
    /// <param name="options">The mel parameters the spectrogram was made with.</param>
    /// <param name="iterations">Griffin-Lim rounds (60 by default; 0 keeps the random phases).</param>
    /// <param name="seed">Seed of the initial random phases.</param>
    /// <returns>Mono samples in [-0.99, 0.99].</returns>
    /// <exception cref="ArgumentException">The mel's channel count differs from options.NMelChannels, or the
    /// data length is not Channels × Frames.</exception>
    public static float[] Reconstruct(Mel mel, DataOptions options, int iterations = 60, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(mel);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(iterations);
        MelSpectrogram.Validate(options);
        if (mel.Channels != options.NMelChannels)
        {
            throw new ArgumentException($"The mel has {mel.Channels} channels but data.n_mel_channels is {options.NMelChannels}.", nameof(mel));
        }
        if (mel.Data.Length != (long)mel.Channels * mel.Frames || mel.Frames < 1)
        {
            throw new ArgumentException($"The mel data holds {mel.Data.Length} values, {mel.Channels} × {mel.Frames} expected.", nameof(mel));
        }

        var fb = MelFilterbank.Create(options.SampleRate, options.FilterLength, options.NMelChannels, options.MelFmin, options.MelFmax);
        double[] magnitude = MelToMagnitude(mel, fb);
        Sharpen(magnitude, Power);
        double[] signal = Run(magnitude, mel.Frames, options, iterations, seed);
        double peak = 0;
        foreach (double v in signal)
        {
            peak = Math.Max(peak, Math.Abs(v));
        }
        double scale = peak > 0.99 ? 0.99 / peak : 1.0;
        var result = new float[signal.Length];
        for (int i = 0; i < signal.Length; i++)
        {
            result[i] = (float)(signal[i] * scale);
        }
        return result;
    }

    /// <summary>Linear magnitude [frame, bin] from a log-mel via the regularised pseudo-inverse, clamped at 0.</summary>
    internal static double[] MelToMagnitude(Mel mel, MelFilterbank fb)
    {
        int bands = fb.Bands, bins = fb.Bins, frames = mel.Frames;
        double[] inverse = PseudoInverseTransposed(fb); // [band, bin]
        var magnitude = new double[frames * bins];
        var linear = new double[bands];
        for (int t = 0; t < frames; t++)
        {
            for (int m = 0; m < bands; m++)
            {
                double v = mel.Data[m * frames + t];
                linear[m] = double.IsFinite(v) ? Math.Exp(Math.Min(v, 20)) : MelSpectrogram.ClampMin;
            }
            Span<double> row = magnitude.AsSpan(t * bins, bins);
            for (int m = 0; m < bands; m++)
            {
                double l = linear[m];
                ReadOnlySpan<double> inv = inverse.AsSpan(m * bins, bins);
                for (int k = 0; k < bins; k++)
                {
                    row[k] += l * inv[k];
                }
            }
            for (int k = 0; k < bins; k++)
            {
                row[k] = Math.Max(0, row[k]);
            }
        }
        return magnitude;
    }

    /// <summary>T = max·(S/max)^power, in place.</summary>
    internal static void Sharpen(double[] magnitude, double power)
    {
        double max = 0;
        foreach (double v in magnitude)
        {
            max = Math.Max(max, v);
        }
        if (max <= 0)
        {
            return;
        }
        for (int i = 0; i < magnitude.Length; i++)
        {
            magnitude[i] = max * Math.Pow(magnitude[i] / max, power);
        }
    }

    /// <summary>
    /// Griffin-Lim on a target magnitude [frame, bin]; returns (frames − 1)·hop samples, unscaled.
    /// </summary>
    internal static double[] Run(double[] magnitude, int frames, DataOptions options, int iterations, int seed,
        double momentum = Momentum, double[]? initialSignal = null)
    {
        int nFft = options.FilterLength, hop = options.HopLength;
        var fft = RealFft.Get(nFft);
        int bins = fft.Bins;
        double[] window = MelSpectrogram.CreateWindow(nFft, options.WinLength);
        var cos = new double[frames * bins];
        var sin = new double[frames * bins];
        var random = new Random(seed);
        for (int i = 0; i < cos.Length; i++)
        {
            double angle = 2 * Math.PI * random.NextDouble();
            cos[i] = Math.Cos(angle);
            sin[i] = Math.Sin(angle);
        }
        var stft = new Stft(fft, window, hop, frames);
        if (initialSignal is not null)
        {
            stft.Phases(initialSignal, cos, sin);
        }
        double[] signal = stft.Inverse(magnitude, cos, sin);
        // Fast Griffin-Lim (Perraudin et al. 2013, librosa's default momentum 0.99): the new complex spectrum is
        // extrapolated past the projection, c_n = p_n + momentum (p_n - p_{n-1}), and only its phase is kept.
        var projRe = new double[frames * bins];
        var projIm = new double[frames * bins];
        var prevRe = new double[frames * bins];
        var prevIm = new double[frames * bins];
        for (int it = 0; it < iterations; it++)
        {
            stft.Spectrum(signal, projRe, projIm);
            for (int i = 0; i < projRe.Length; i++)
            {
                double r = projRe[i], im = projIm[i];
                if (it > 0)
                {
                    r += momentum * (projRe[i] - prevRe[i]);
                    im += momentum * (projIm[i] - prevIm[i]);
                }
                prevRe[i] = projRe[i];
                prevIm[i] = projIm[i];
                double norm = Math.Sqrt(r * r + im * im);
                if (norm > 1e-12)
                {
                    cos[i] = r / norm;
                    sin[i] = im / norm;
                }
                else
                {
                    cos[i] = 1;
                    sin[i] = 0;
                }
            }
            signal = stft.Inverse(magnitude, cos, sin);
        }
        return signal;
    }

    /// <summary>
    /// ||  |STFT(signal)| − target ||_F / || target ||_F over all frames and bins (0 = perfect).
    /// </summary>
    internal static double SpectralConvergence(double[] signal, double[] target, int frames, DataOptions options)
    {
        var fft = RealFft.Get(options.FilterLength);
        var stft = new Stft(fft, MelSpectrogram.CreateWindow(options.FilterLength, options.WinLength), options.HopLength, frames);
        double[] mag = stft.Magnitude(signal);
        double num = 0, den = 0;
        for (int i = 0; i < target.Length; i++)
        {
            double d = mag[i] - target[i];
            num += d * d;
            den += target[i] * target[i];
        }
        return Math.Sqrt(num / den);
    }

    private static double[] PseudoInverseTransposed(MelFilterbank fb)
    {
        int bands = fb.Bands, bins = fb.Bins;
        double[] m = fb.ToDense();
        // G = M Mᵀ + λI (bands × bands), solve G X = M for X = (M Mᵀ + λI)⁻¹ M; pinv(M) = Xᵀ.
        var g = new double[bands * bands];
        for (int i = 0; i < bands; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double s = 0;
                for (int k = 0; k < bins; k++)
                {
                    s += m[i * bins + k] * m[j * bins + k];
                }
                g[i * bands + j] = s;
                g[j * bands + i] = s;
            }
        }
        double maxDiag = 0;
        for (int i = 0; i < bands; i++)
        {
            maxDiag = Math.Max(maxDiag, g[i * bands + i]);
        }
        double lambda = 1e-4 * maxDiag;
        for (int i = 0; i < bands; i++)
        {
            g[i * bands + i] += lambda;
        }
        // Cholesky G = L Lᵀ (G is symmetric positive definite thanks to λ).
        var l = new double[bands * bands];
        for (int i = 0; i < bands; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double s = g[i * bands + j];
                for (int k = 0; k < j; k++)
                {
                    s -= l[i * bands + k] * l[j * bands + k];
                }
                l[i * bands + j] = i == j ? Math.Sqrt(s) : s / l[j * bands + j];
            }
        }
        var x = (double[])m.Clone();
        for (int col = 0; col < bins; col++)
        {
            for (int i = 0; i < bands; i++) // forward: L y = b
            {
                double s = x[i * bins + col];
                for (int k = 0; k < i; k++)
                {
                    s -= l[i * bands + k] * x[k * bins + col];
                }
                x[i * bins + col] = s / l[i * bands + i];
            }
            for (int i = bands - 1; i >= 0; i--) // backward: Lᵀ x = y
            {
                double s = x[i * bins + col];
                for (int k = i + 1; k < bands; k++)
                {
                    s -= l[k * bands + i] * x[k * bins + col];
                }
                x[i * bins + col] = s / l[i * bands + i];
            }
        }
        return x;
    }

    /// <summary>STFT/ISTFT with the reference framing, for a fixed number of frames.</summary>
    private sealed class Stft(RealFft fft, double[] window, int hop, int frames)
    {
        private readonly int _n = fft.Size;
        private readonly double[] _frame = new double[fft.Size];
        private readonly double[] _scratch = new double[fft.Size];
        private readonly double[] _re = new double[fft.Bins];
        private readonly double[] _im = new double[fft.Bins];
        private double[]? _inverseNorm;

        public int OutputLength => (frames - 1) * hop;

        /// <summary>Unit phasors of the STFT of <paramref name="signal"/>.</summary>
        public void Phases(double[] signal, double[] cos, double[] sin)
        {
            int bins = fft.Bins;
            for (int t = 0; t < frames; t++)
            {
                Analyse(signal, t);
                for (int k = 0; k < bins; k++)
                {
                    double r = _re[k], i = _im[k];
                    double norm = Math.Sqrt(r * r + i * i);
                    if (norm > 1e-12)
                    {
                        cos[t * bins + k] = r / norm;
                        sin[t * bins + k] = i / norm;
                    }
                    else
                    {
                        cos[t * bins + k] = 1;
                        sin[t * bins + k] = 0;
                    }
                }
            }
        }

        /// <summary>Complex STFT of <paramref name="signal"/>, [frame, bin].</summary>
        public void Spectrum(double[] signal, double[] re, double[] im)
        {
            int bins = fft.Bins;
            for (int t = 0; t < frames; t++)
            {
                Analyse(signal, t);
                _re.CopyTo(re, t * bins);
                _im.CopyTo(im, t * bins);
            }
        }

        public double[] Magnitude(double[] signal)
        {
            int bins = fft.Bins;
            var mag = new double[frames * bins];
            for (int t = 0; t < frames; t++)
            {
                Analyse(signal, t);
                for (int k = 0; k < bins; k++)
                {
                    mag[t * bins + k] = Math.Sqrt(_re[k] * _re[k] + _im[k] * _im[k]);
                }
            }
            return mag;
        }

        public double[] Inverse(double[] magnitude, double[] cos, double[] sin)
        {
            int bins = fft.Bins;
            int padded = (frames - 1) * hop + _n;
            var acc = new double[padded];
            for (int t = 0; t < frames; t++)
            {
                for (int k = 0; k < bins; k++)
                {
                    double a = magnitude[t * bins + k];
                    _re[k] = a * cos[t * bins + k];
                    _im[k] = a * sin[t * bins + k];
                }
                fft.Inverse(_re, _im, _frame, _scratch);
                int origin = t * hop;
                for (int i = 0; i < _n; i++)
                {
                    acc[origin + i] += _frame[i] * window[i];
                }
            }
            double[] norm = InverseNorm(padded);
            int pad = _n / 2;
            var output = new double[OutputLength];
            for (int i = 0; i < output.Length; i++)
            {
                output[i] = acc[pad + i] * norm[pad + i];
            }
            return output;
        }

        private double[] InverseNorm(int padded)
        {
            if (_inverseNorm is not null)
            {
                return _inverseNorm;
            }
            var sum = new double[padded];
            for (int t = 0; t < frames; t++)
            {
                for (int i = 0; i < _n; i++)
                {
                    sum[t * hop + i] += window[i] * window[i];
                }
            }
            for (int i = 0; i < padded; i++)
            {
                sum[i] = sum[i] > 1e-10 ? 1.0 / sum[i] : 0;
            }
            return _inverseNorm = sum;
        }

        private void Analyse(double[] signal, int t)
        {
            int n = signal.Length;
            int origin = t * hop - _n / 2;
            for (int i = 0; i < _n; i++)
            {
                int j = origin + i;
                double v = n == 0 ? 0 : signal[j >= 0 && j < n ? j : MelSpectrogram.Reflect(j, n)];
                _frame[i] = v * window[i];
            }
            fft.Forward(_frame, _re, _im, _scratch);
        }
    }
}
