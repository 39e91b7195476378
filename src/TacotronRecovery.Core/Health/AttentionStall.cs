namespace TacotronRecovery.Core.Health;

/// <summary>What ended the free-running synthesis of one utterance.</summary>
public enum StopReason
{
    /// <summary>The gate fired (sigmoid above the threshold): the model decided to stop.</summary>
    Gate,

    /// <summary>The attention rested at the last tokens for <see cref="AttentionStall.Steps"/> decoder steps without the gate
    /// firing: the stall detector ended the babbling (<see cref="AttentionStall"/>).</summary>
    Stall,

    /// <summary>Neither fired before the decoder step limit.</summary>
    StepLimit,
}

/// <summary>
/// The stall detector of free-running synthesis: a model whose gate does not fire keeps decoding with its attention resting
/// at the end of the text and babbles until the step limit. This follows one utterance's attention rows step by step and
/// reports a stall once the row's peak (argmax) has been on one of the last <see cref="LastTokens"/> tokens for
/// <see cref="Steps"/> consecutive decoder steps. A row whose peak leaves the end (attention jumping back) resets the count.
/// <para>
/// Where the speech ends (<see cref="EstimatedEnd"/>): the stall began at step s₀ (the first step of the run at the end),
/// after N − L tokens (L = <see cref="LastTokens"/>) in s₀ steps; the last L tokens are given the same speaking rate, so the
/// utterance ends at ⌈s₀·N / (N − L)⌉ steps (never beyond the step that completed the stall).
/// </para>
/// <para>
/// Choosing <see cref="Steps"/>: a normal end rests on the last two tokens for a few steps only (the final phoneme and
/// punctuation); docs/model.md (Gate) lists what the demo measured. Too small a value cuts long final sounds.
/// </para>
/// </summary>
public sealed class AttentionStall
{
    private int _step;
    private int _run;

    /// <summary>Creates a detector for one utterance.</summary>
    /// <param name="tokens">Input tokens N of the utterance (its valid attention columns).</param>
    /// <param name="steps">Consecutive decoder steps at the end that make a stall (≥ 1).</param>
    /// <param name="lastTokens">How many final tokens count as "the end" (≥ 1; fewer than <paramref name="tokens"/> unless N = 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is below 1.</exception>
    public AttentionStall(int tokens, int steps, int lastTokens = DefaultLastTokens)
    {
        if (tokens < 1) throw new ArgumentOutOfRangeException(nameof(tokens), tokens, "An utterance has at least one token.");
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "Stall steps must be at least 1.");
        if (lastTokens < 1) throw new ArgumentOutOfRangeException(nameof(lastTokens), lastTokens, "Last tokens must be at least 1.");
        Tokens = tokens;
        Steps = steps;
        LastTokens = Math.Min(lastTokens, tokens);
    }

    /// <summary>Final tokens that count as the end by default (the last letter and the closing punctuation).</summary>
    public const int DefaultLastTokens = 2;

    /// <summary>Input tokens N.</summary>
    public int Tokens { get; }

    /// <summary>Consecutive steps at the end that make a stall.</summary>
    public int Steps { get; }

    /// <summary>Final tokens that count as the end.</summary>
    public int LastTokens { get; }

    /// <summary>Decoder steps observed so far.</summary>
    public int Observed => _step;

    /// <summary>0-based step at which the current run at the end began (null when the latest row is not at the end).</summary>
    public int? RunStart => _run > 0 ? _step - _run : null;

    /// <summary>True once a stall was detected (stays true).</summary>
    public bool Stalled { get; private set; }

    /// <summary>0-based step that completed the stall (null before).</summary>
    public int? DetectedAt { get; private set; }

    /// <summary>Where the speech is estimated to end, in decoder steps (null before a stall); see the class remarks.</summary>
    public int? EstimatedEnd { get; private set; }

    /// <summary>Observes the attention peak of the next decoder step.</summary>
    /// <param name="peakToken">0-based token index of the row's largest weight.</param>
    /// <returns>True when this step completes a stall (only once).</returns>
    public bool Observe(int peakToken)
    {
        bool atEnd = peakToken >= Tokens - LastTokens && peakToken < Tokens;
        _run = atEnd ? _run + 1 : 0;
        _step++;
        if (Stalled || _run < Steps) return false;
        Stalled = true;
        DetectedAt = _step - 1;
        int start = _step - _run;
        int spoken = Tokens - LastTokens;
        int end = spoken <= 0 ? start + 1 : (int)Math.Ceiling((double)start * Tokens / spoken);
        EstimatedEnd = Math.Clamp(end, start + 1, _step);
        return true;
    }

    /// <summary>Observes one attention row (its first <see cref="Tokens"/> values).</summary>
    /// <returns>True when this step completes a stall.</returns>
    public bool Observe(ReadOnlySpan<float> row)
    {
        if (row.Length < Tokens) throw new ArgumentException($"The row has {row.Length} values, fewer than the {Tokens} tokens.", nameof(row));
        int peak = 0;
        for (int n = 1; n < Tokens; n++) if (row[n] > row[peak]) peak = n;
        return Observe(peak);
    }

    /// <summary>
    /// Runs the detector over a whole alignment (row-major [steps, width], the first <paramref name="tokens"/> columns
    /// valid) and returns it: <see cref="Stalled"/>, <see cref="DetectedAt"/> and <see cref="EstimatedEnd"/> say whether
    /// and where the attention stalled at the end. It stops reading at the first stall.
    /// </summary>
    /// <exception cref="ArgumentException">The alignment does not hold <paramref name="rows"/> rows of <paramref name="width"/> values.</exception>
    public static AttentionStall Scan(ReadOnlySpan<float> alignment, int rows, int width, int tokens, int steps, int lastTokens = DefaultLastTokens)
    {
        if (rows < 0 || width < tokens || alignment.Length < (long)rows * width)
            throw new ArgumentException($"An alignment of {alignment.Length} values does not hold {rows} rows of {width} (tokens {tokens}).", nameof(alignment));
        var detector = new AttentionStall(tokens, steps, lastTokens);
        for (int t = 0; t < rows && !detector.Stalled; t++) detector.Observe(alignment.Slice(t * width, tokens));
        return detector;
    }
}
