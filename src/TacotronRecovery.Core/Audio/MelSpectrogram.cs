using System.Buffers;
using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Core.Audio;

/// <summary>
/// Log-mel spectrogram matching NVIDIA tacotron2's <c>TacotronSTFT.mel_spectrogram</c>:
/// <list type="number">
/// <item>centre padding: n_fft/2 samples reflected (mirror without repeating the edge) on both sides;</item>
/// <item>frames of n_fft samples every hop samples, so Frames = 1 + samples / hop (integer division);</item>
/// <item>periodic Hann window of win_length samples (scipy <c>get_window('hann', fftbins=True)</c>), centred in n_fft;</item>
/// <item>magnitude |X[k]| of the real FFT, k = 0..n_fft/2 (not power);</item>
/// <item>Slaney mel filterbank (librosa defaults htk=False, norm='slaney') from mel_fmin to mel_fmax;</item>
/// <item>natural log of max(x, 1e-5).</item>
/// </list>
/// Input samples are expected in [-1, 1] (the reference divides int16 by 32768). Arithmetic is double precision;
/// values agree with an independent numpy implementation (tools/mel_reference.py) to better than 1e-4.
/// Immutable after construction: one instance is safe to share between threads; <see cref="Compute"/> only
/// rents scratch buffers and allocates its result.
/// </summary>
public sealed class MelSpectrogram
{
    /// <summary>The clamp applied before the log (the reference's <c>clip_val</c>).</summary>
    internal const double ClampMin = 1e-5;

    private readonly int _nFft;
    private readonly int _hop;
    private readonly double[] _window; // length n_fft, zero outside the centred win_length
    private readonly RealFft _fft;
    private readonly MelFilterbank _filterbank;

    /// <summary>Builds the window, FFT plan and filterbank from <paramref name="options"/>.</summary>
    /// <param name="options">Uses SampleRate, FilterLength (n_fft, a power of two), HopLength, WinLength (≤ n_fft),
    /// NMelChannels, MelFmin and MelFmax (≤ SampleRate/2).</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public MelSpectrogram(DataOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        _nFft = options.FilterLength;
        _hop = options.HopLength;
        _fft = RealFft.Get(_nFft);
        _window = CreateWindow(_nFft, options.WinLength);
        _filterbank = MelFilterbank.Create(options.SampleRate, _nFft, options.NMelChannels, options.MelFmin, options.MelFmax);
    }

    /// <summary>Mel bands per frame.</summary>
    public int Channels => _filterbank.Bands;

    internal MelFilterbank Filterbank => _filterbank;

    internal ReadOnlySpan<double> Window => _window;

    /// <summary>Frames the spectrogram of <paramref name="sampleCount"/> samples has: 1 + sampleCount / hop.</summary>
    public int FrameCount(int sampleCount) => 1 + sampleCount / _hop;

    /// <summary>Computes the log-mel spectrogram of mono samples in [-1, 1].</summary>
    /// <param name="samples">Mono samples. An empty span gives one frame at the floor ln(1e-5); a clip shorter than
    /// n_fft/2 is reflected repeatedly (the reference would refuse it).</param>
    /// <returns>Channels × (1 + samples/hop) values, channel-major.</returns>
    public Mel Compute(ReadOnlySpan<float> samples)
    {
        int frames = FrameCount(samples.Length);
        int bins = _fft.Bins;
        int bands = _filterbank.Bands;
        var data = new float[bands * frames];

        double[] rented = ArrayPool<double>.Shared.Rent(_nFft * 2 + bins * 3);
        try
        {
            Span<double> frame = rented.AsSpan(0, _nFft);
            Span<double> scratch = rented.AsSpan(_nFft, _nFft);
            Span<double> re = rented.AsSpan(2 * _nFft, bins);
            Span<double> im = rented.AsSpan(2 * _nFft + bins, bins);
            Span<double> mag = rented.AsSpan(2 * _nFft + 2 * bins, bins);
            int pad = _nFft / 2;
            int n = samples.Length;
            for (int t = 0; t < frames; t++)
            {
                int origin = t * _hop - pad; // index in the unpadded signal of frame sample 0
                if (origin >= 0 && origin + _nFft <= n)
                {
                    for (int i = 0; i < _nFft; i++)
                    {
                        frame[i] = samples[origin + i] * _window[i];
                    }
                }
                else
                {
                    for (int i = 0; i < _nFft; i++)
                    {
                        frame[i] = n == 0 ? 0 : samples[Reflect(origin + i, n)] * _window[i];
                    }
                }
                _fft.Forward(frame, re, im, scratch);
                for (int k = 0; k < bins; k++)
                {
                    mag[k] = Math.Sqrt(re[k] * re[k] + im[k] * im[k]);
                }
                for (int m = 0; m < bands; m++)
                {
                    double[] w = _filterbank.Weights[m];
                    ReadOnlySpan<double> seg = mag.Slice(_filterbank.Start[m], w.Length);
                    double sum = 0;
                    for (int i = 0; i < w.Length; i++)
                    {
                        sum += w[i] * seg[i];
                    }
                    data[m * frames + t] = (float)Math.Log(Math.Max(sum, ClampMin));
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(rented);
        }
        return new Mel(bands, frames, data);
    }

    /// <summary>Index of position <paramref name="i"/> after mirror padding (no edge repeat) of a length-n signal.</summary>
    internal static int Reflect(int i, int n)
    {
        if (n == 1)
        {
            return 0;
        }
        int period = 2 * (n - 1);
        int r = i % period;
        if (r < 0)
        {
            r += period;
        }
        return r < n ? r : period - r;
    }

    internal static double[] CreateWindow(int nFft, int winLength)
    {
        var window = new double[nFft];
        int offset = (nFft - winLength) / 2;
        for (int i = 0; i < winLength; i++)
        {
            window[offset + i] = 0.5 - 0.5 * Math.Cos(2 * Math.PI * i / winLength);
        }
        return window;
    }

    internal static void Validate(DataOptions o)
    {
        if (o.SampleRate <= 0)
        {
            throw new ArgumentException($"data.sample_rate must be positive, got {o.SampleRate}.", nameof(o));
        }
        if (o.FilterLength < 4 || !System.Numerics.BitOperations.IsPow2(o.FilterLength))
        {
            throw new ArgumentException($"data.filter_length must be a power of two ≥ 4, got {o.FilterLength}.", nameof(o));
        }
        if (o.HopLength <= 0)
        {
            throw new ArgumentException($"data.hop_length must be positive, got {o.HopLength}.", nameof(o));
        }
        if (o.WinLength <= 0 || o.WinLength > o.FilterLength)
        {
            throw new ArgumentException($"data.win_length must be in 1..filter_length ({o.FilterLength}), got {o.WinLength}.", nameof(o));
        }
        if (o.NMelChannels <= 0)
        {
            throw new ArgumentException($"data.n_mel_channels must be positive, got {o.NMelChannels}.", nameof(o));
        }
        if (o.MelFmin < 0 || o.MelFmax <= o.MelFmin || o.MelFmax > o.SampleRate / 2.0)
        {
            throw new ArgumentException(
                $"data.mel_fmin/mel_fmax must satisfy 0 ≤ fmin < fmax ≤ sample_rate/2 ({o.SampleRate / 2.0}), got {o.MelFmin}/{o.MelFmax}.", nameof(o));
        }
    }
}
