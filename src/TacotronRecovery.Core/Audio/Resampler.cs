namespace TacotronRecovery.Core.Audio;

/// <summary>
/// Band-limited resampling by a Kaiser-windowed sinc (the method of resampy / libsamplerate's sinc converters).
/// Quality choice: 32 zero crossings each side, Kaiser β = 9 (stop-band ≈ −90 dB), cut-off at 0.945 of the lower
/// Nyquist frequency (pass-band flat to about 0.9 of it; for 44.1 → 22.05 kHz flat to ≈ 9.9 kHz, well above the
/// 8 kHz the mel uses). The kernel is tabulated at 512 points per zero crossing and linearly interpolated
/// (interpolation error below −100 dB). Output length is ceil(n · out / in), like librosa; the signal is taken
/// as zero outside its ends. Any rational or irrational ratio works; the cost is about
/// 2 · 32 / min(1, out/in) multiply-adds per output sample.
/// </summary>
internal static class Resampler
{
    internal const int ZeroCrossings = 32;
    internal const double Rolloff = 0.945;
    internal const double Beta = 9.0;
    private const int TablePerCrossing = 512;

    // h(x) = sinc(x) * kaiser(x / ZeroCrossings) for x = j / TablePerCrossing, j = 0 .. ZeroCrossings * TablePerCrossing (+1 guard).
    private static readonly double[] Table = BuildTable();

    /// <summary>Resamples <paramref name="input"/> from <paramref name="fromRate"/> to <paramref name="toRate"/> Hz.</summary>
    public static float[] Resample(ReadOnlySpan<float> input, int fromRate, int toRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fromRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(toRate);
        if (fromRate == toRate)
        {
            return input.ToArray();
        }
        int n = input.Length;
        long outLength = (long)Math.Ceiling((double)n * toRate / fromRate);
        var output = new float[outLength];
        double step = (double)fromRate / toRate;          // input samples per output sample
        double fc = Math.Min(1.0, (double)toRate / fromRate) * Rolloff; // cut-off, in units of the input Nyquist
        double halfWidth = ZeroCrossings / fc;            // kernel half-width in input samples
        double tableScale = fc * TablePerCrossing;        // table index per input sample of distance
        int last = Table.Length - 2;
        for (long i = 0; i < outLength; i++)
        {
            double p = i * step;
            int k0 = Math.Max(0, (int)Math.Ceiling(p - halfWidth));
            int k1 = Math.Min(n - 1, (int)Math.Floor(p + halfWidth));
            double sum = 0;
            for (int k = k0; k <= k1; k++)
            {
                double x = Math.Abs(p - k) * tableScale;
                int j = (int)x;
                if (j > last)
                {
                    continue;
                }
                double frac = x - j;
                double h = Table[j] + frac * (Table[j + 1] - Table[j]);
                sum += input[k] * h;
            }
            output[i] = (float)(sum * fc);
        }
        return output;
    }

    private static double[] BuildTable()
    {
        int count = ZeroCrossings * TablePerCrossing + 2;
        var table = new double[count];
        double i0Beta = BesselI0(Beta);
        for (int j = 0; j < count; j++)
        {
            double x = (double)j / TablePerCrossing;
            double r = x / ZeroCrossings;
            if (r >= 1)
            {
                table[j] = 0;
                continue;
            }
            double sinc = j == 0 ? 1 : Math.Sin(Math.PI * x) / (Math.PI * x);
            table[j] = sinc * BesselI0(Beta * Math.Sqrt(1 - r * r)) / i0Beta;
        }
        return table;
    }

    /// <summary>Modified Bessel function of the first kind, order 0 (power series).</summary>
    internal static double BesselI0(double x)
    {
        double sum = 1, term = 1, q = x * x / 4;
        for (int k = 1; k < 200; k++)
        {
            term *= q / ((double)k * k);
            sum += term;
            if (term < sum * 1e-17)
            {
                break;
            }
        }
        return sum;
    }
}
