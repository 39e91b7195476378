using System.Collections.Concurrent;

namespace TacotronRecovery.Core.Audio;

/// <summary>
/// Radix-2 FFT of a real sequence of length N (a power of two) through one complex FFT of length N/2 and a
/// split step. Plans (twiddles, bit-reversal) are immutable and shared; callers pass their own scratch, so a plan
/// is thread-safe and a transform allocates nothing. Double precision throughout: a float32 FFT's rounding noise
/// (~1e-7 of the frame's peak) moves the log of quiet mel bands by more than the 1e-4 the reference test allows.
/// </summary>
internal sealed class RealFft
{
    private static readonly ConcurrentDictionary<int, RealFft> Plans = new();

    private readonly int _half;         // M = N/2, the complex FFT length
    private readonly int[] _bitReverse; // length M
    private readonly double[] _cosM;    // cos(2 pi k / M), k < M/2
    private readonly double[] _sinM;    // sin(2 pi k / M), k < M/2
    private readonly double[] _cosN;    // cos(2 pi k / N), k <= M
    private readonly double[] _sinN;    // sin(2 pi k / N), k <= M

    private RealFft(int n)
    {
        Size = n;
        _half = n / 2;
        int bits = System.Numerics.BitOperations.Log2((uint)_half);
        _bitReverse = new int[_half];
        for (int i = 0; i < _half; i++)
        {
            int r = 0;
            for (int b = 0; b < bits; b++)
            {
                r |= ((i >> b) & 1) << (bits - 1 - b);
            }
            _bitReverse[i] = r;
        }
        _cosM = new double[Math.Max(1, _half / 2)];
        _sinM = new double[Math.Max(1, _half / 2)];
        for (int k = 0; k < _half / 2; k++)
        {
            _cosM[k] = Math.Cos(2 * Math.PI * k / _half);
            _sinM[k] = Math.Sin(2 * Math.PI * k / _half);
        }
        _cosN = new double[_half + 1];
        _sinN = new double[_half + 1];
        for (int k = 0; k <= _half; k++)
        {
            _cosN[k] = Math.Cos(2 * Math.PI * k / n);
            _sinN[k] = Math.Sin(2 * Math.PI * k / n);
        }
    }

    /// <summary>Transform length N.</summary>
    public int Size { get; }

    /// <summary>Number of non-negative-frequency bins, N/2 + 1.</summary>
    public int Bins => _half + 1;

    /// <summary>The shared plan for length <paramref name="n"/> (a power of two, at least 4).</summary>
    public static RealFft Get(int n)
    {
        if (n < 4 || !System.Numerics.BitOperations.IsPow2(n))
        {
            throw new ArgumentOutOfRangeException(nameof(n), n, "FFT length must be a power of two, at least 4.");
        }
        return Plans.GetOrAdd(n, static size => new RealFft(size));
    }

    /// <summary>
    /// X[k] = sum_n x[n] e^{-2 pi i k n / N} for k = 0..N/2. <paramref name="re"/> and <paramref name="im"/> need
    /// N/2 + 1 elements; <paramref name="scratch"/> needs N elements (it may alias nothing else).
    /// </summary>
    public void Forward(ReadOnlySpan<double> x, Span<double> re, Span<double> im, Span<double> scratch)
    {
        int m = _half;
        Span<double> zr = scratch[..m];
        Span<double> zi = scratch.Slice(m, m);
        for (int i = 0; i < m; i++)
        {
            int j = _bitReverse[i];
            zr[j] = x[2 * i];
            zi[j] = x[2 * i + 1];
        }
        Butterflies(zr, zi, inverse: false);

        // Split: E[k] = (Z[k] + conj Z[M-k]) / 2, O[k] = (Z[k] - conj Z[M-k]) / 2i, X[k] = E[k] + W^k O[k].
        for (int k = 0; k <= m; k++)
        {
            int a = k == m ? 0 : k;
            int b = k == 0 ? 0 : m - k;
            double ar = zr[a], ai = zi[a], br = zr[b], bi = -zi[b];
            double er = 0.5 * (ar + br), ei = 0.5 * (ai + bi);
            double dr = ar - br, di = ai - bi;           // Z[k] - conj Z[M-k]
            double oRe = 0.5 * di, oIm = -0.5 * dr;         // divided by 2i
            double c = _cosN[k], s = -_sinN[k];           // W^k = e^{-2 pi i k / N}
            re[k] = er + (oRe * c - oIm * s);
            im[k] = ei + (oRe * s + oIm * c);
        }
    }

    /// <summary>
    /// Inverse of <see cref="Forward"/>: x[n] = (1/N) sum_k X[k] e^{2 pi i k n / N} with Hermitian symmetry
    /// (the imaginary parts of bins 0 and N/2 are ignored). <paramref name="x"/> needs N elements,
    /// <paramref name="scratch"/> N elements.
    /// </summary>
    public void Inverse(ReadOnlySpan<double> re, ReadOnlySpan<double> im, Span<double> x, Span<double> scratch)
    {
        int m = _half;
        Span<double> zr = scratch[..m];
        Span<double> zi = scratch.Slice(m, m);
        for (int k = 0; k < m; k++)
        {
            // E[k] = (X[k] + conj X[M-k]) / 2, O[k] = (X[k] - conj X[M-k]) e^{+2 pi i k/N} / 2, Z = E + i O.
            double ar = re[k], ai = k == 0 ? 0 : im[k];
            double br = re[m - k], bi = (m - k == m) ? 0 : -im[m - k];
            double er = 0.5 * (ar + br), ei = 0.5 * (ai + bi);
            double dr = 0.5 * (ar - br), di = 0.5 * (ai - bi);
            double c = _cosN[k], s = _sinN[k];
            double oRe = dr * c - di * s, oIm = dr * s + di * c;
            int j = _bitReverse[k];
            zr[j] = er - oIm;
            zi[j] = ei + oRe;
        }
        Butterflies(zr, zi, inverse: true);
        double scale = 1.0 / m;
        for (int i = 0; i < m; i++)
        {
            x[2 * i] = zr[i] * scale;
            x[2 * i + 1] = zi[i] * scale;
        }
    }

    private void Butterflies(Span<double> re, Span<double> im, bool inverse)
    {
        int m = _half;
        double sign = inverse ? 1 : -1;
        for (int len = 2; len <= m; len <<= 1)
        {
            int halfLen = len >> 1;
            int step = m / len;
            for (int start = 0; start < m; start += len)
            {
                for (int j = 0; j < halfLen; j++)
                {
                    double wr = _cosM[j * step], wi = sign * _sinM[j * step];
                    int p = start + j, q = p + halfLen;
                    double tr = re[q] * wr - im[q] * wi;
                    double ti = re[q] * wi + im[q] * wr;
                    re[q] = re[p] - tr;
                    im[q] = im[p] - ti;
                    re[p] += tr;
                    im[p] += ti;
                }
            }
        }
    }
}
