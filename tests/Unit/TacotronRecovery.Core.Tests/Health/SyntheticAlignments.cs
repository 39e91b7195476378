namespace TacotronRecovery.Core.Tests.Health;

/// <summary>Synthetic attention matrices (row-major [steps, tokens], rows sum to 1) for the alignment tests.</summary>
internal static class SyntheticAlignments
{
    /// <summary>Each row a Gaussian of width <paramref name="sigma"/> tokens around centre(i) (clipped to the tokens and renormalised).</summary>
    public static float[] Gaussian(int steps, int tokens, double sigma, Func<int, double> centre)
    {
        var a = new float[steps * tokens];
        for (int i = 0; i < steps; i++)
        {
            double c = centre(i), sum = 0;
            for (int j = 0; j < tokens; j++) sum += Math.Exp(-0.5 * Math.Pow((j - c) / sigma, 2));
            for (int j = 0; j < tokens; j++) a[i * tokens + j] = (float)(Math.Exp(-0.5 * Math.Pow((j - c) / sigma, 2)) / sum);
        }
        return a;
    }

    /// <summary>Straight diagonal from token 0 to the last token.</summary>
    public static Func<int, double> Linear(int steps, int tokens) => i => steps == 1 ? 0 : i * (tokens - 1.0) / (steps - 1);

    /// <summary>One-hot rows on the straight diagonal.</summary>
    public static float[] HardDiagonal(int steps, int tokens)
    {
        var a = new float[steps * tokens];
        var c = Linear(steps, tokens);
        for (int i = 0; i < steps; i++) a[i * tokens + (int)Math.Round(c(i))] = 1;
        return a;
    }

    /// <summary>
    /// Each step covers the token interval [i·N/T, (i+1)·N/T) and spreads its mass by overlap: the sharpest possible
    /// alignment when there are more tokens than steps.
    /// </summary>
    public static float[] IntervalDiagonal(int steps, int tokens)
    {
        var a = new float[steps * tokens];
        double per = (double)tokens / steps;
        for (int i = 0; i < steps; i++)
        {
            double lo = i * per, hi = (i + 1) * per;
            for (int j = (int)Math.Floor(lo); j < Math.Min(tokens, (int)Math.Ceiling(hi)); j++)
            {
                double overlap = Math.Min(hi, j + 1) - Math.Max(lo, j);
                if (overlap > 0) a[i * tokens + j] = (float)(overlap / per);
            }
        }
        return a;
    }

    public static float[] Uniform(int steps, int tokens)
    {
        var a = new float[steps * tokens];
        Array.Fill(a, 1f / tokens);
        return a;
    }

    /// <summary>Sharp attention stuck on one token.</summary>
    public static float[] Stuck(int steps, int tokens, int token, double sigma = 0.5) => Gaussian(steps, tokens, sigma, _ => token);

    /// <summary>Places <paramref name="a"/> [steps, tokens] into the corner of a [maxSteps, maxTokens] matrix whose padding holds <paramref name="pad"/>.</summary>
    public static float[] Pad(float[] a, int steps, int tokens, int maxSteps, int maxTokens, float pad)
    {
        var p = new float[maxSteps * maxTokens];
        Array.Fill(p, pad);
        for (int i = 0; i < steps; i++) Array.Copy(a, i * tokens, p, i * maxTokens, tokens);
        return p;
    }

    /// <summary>Seeded uniform noise added to each row, then renormalised (random-init attention).</summary>
    public static float[] Noisy(float[] a, int steps, int tokens, double amount, int seed)
    {
        var rng = new Random(seed);
        var b = new float[a.Length];
        for (int i = 0; i < steps; i++)
        {
            double sum = 0;
            for (int j = 0; j < tokens; j++) { double v = a[i * tokens + j] + amount * rng.NextDouble(); b[i * tokens + j] = (float)v; sum += v; }
            for (int j = 0; j < tokens; j++) b[i * tokens + j] = (float)(b[i * tokens + j] / sum);
        }
        return b;
    }
}
