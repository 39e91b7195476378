namespace TacotronRecovery.Core.Audio;

/// <summary>
/// Slaney-style mel filterbank, as librosa.filters.mel(htk=False, norm='slaney') builds it and NVIDIA tacotron2
/// uses it: band edges equally spaced on the Slaney mel scale (linear below 1 kHz at 200/3 Hz per mel, logarithmic
/// above with 27 mels per factor 6.4), triangles over the FFT bin centres k·sr/n_fft, each scaled by
/// 2 / (right edge − left edge) so every band has the same area. Weights are rounded to float32 like librosa's
/// default dtype. Rows are stored sparsely (first non-zero bin + weights) for a fast product.
/// </summary>
internal sealed class MelFilterbank
{
    private MelFilterbank(int bands, int bins, int[] start, double[][] weights)
    {
        Bands = bands;
        Bins = bins;
        Start = start;
        Weights = weights;
    }

    /// <summary>Mel bands (rows).</summary>
    public int Bands { get; }

    /// <summary>FFT bins (columns), n_fft/2 + 1.</summary>
    public int Bins { get; }

    /// <summary>First non-zero bin of each row.</summary>
    public int[] Start { get; }

    /// <summary>Non-zero weights of each row, from <see cref="Start"/>.</summary>
    public double[][] Weights { get; }

    /// <summary>Slaney mel of a frequency in Hz.</summary>
    public static double HzToMel(double hz)
    {
        const double fSp = 200.0 / 3.0, minLogHz = 1000.0, minLogMel = minLogHz / fSp;
        double logStep = Math.Log(6.4) / 27.0;
        return hz >= minLogHz ? minLogMel + Math.Log(hz / minLogHz) / logStep : hz / fSp;
    }

    /// <summary>Frequency in Hz of a Slaney mel.</summary>
    public static double MelToHz(double mel)
    {
        const double fSp = 200.0 / 3.0, minLogHz = 1000.0, minLogMel = minLogHz / fSp;
        double logStep = Math.Log(6.4) / 27.0;
        return mel >= minLogMel ? minLogHz * Math.Exp(logStep * (mel - minLogMel)) : fSp * mel;
    }

    /// <summary>Builds the filterbank.</summary>
    public static MelFilterbank Create(int sampleRate, int nFft, int bands, double fmin, double fmax)
    {
        int bins = nFft / 2 + 1;
        double lo = HzToMel(fmin), hi = HzToMel(fmax);
        var edges = new double[bands + 2];
        for (int i = 0; i < edges.Length; i++)
        {
            edges[i] = MelToHz(lo + (hi - lo) * i / (bands + 1));
        }
        var start = new int[bands];
        var weights = new double[bands][];
        var row = new double[bins];
        for (int m = 0; m < bands; m++)
        {
            double left = edges[m], centre = edges[m + 1], right = edges[m + 2];
            double norm = 2.0 / (right - left);
            int first = -1, last = -1;
            for (int b = 0; b < bins; b++)
            {
                double f = (double)b * sampleRate / nFft;
                double rise = (f - left) / (centre - left);
                double fall = (right - f) / (right - centre);
                double w = Math.Max(0.0, Math.Min(rise, fall));
                row[b] = (float)(w * norm);
                if (row[b] > 0)
                {
                    if (first < 0)
                    {
                        first = b;
                    }
                    last = b;
                }
            }
            if (first < 0)
            {
                // A band narrower than one FFT bin gets no weight (librosa warns about empty filters); keep it empty.
                start[m] = 0;
                weights[m] = [];
                continue;
            }
            start[m] = first;
            weights[m] = row.AsSpan(first, last - first + 1).ToArray();
        }
        return new MelFilterbank(bands, bins, start, weights);
    }

    /// <summary>The dense matrix, row-major [band, bin].</summary>
    public double[] ToDense()
    {
        var dense = new double[Bands * Bins];
        for (int m = 0; m < Bands; m++)
        {
            Weights[m].CopyTo(dense.AsSpan(m * Bins + Start[m]));
        }
        return dense;
    }
}
