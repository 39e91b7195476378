using TacotronRecovery.Core.Health;

namespace TacotronRecovery.Core.Tests.Health;

public class AttentionStallTests
{
    /// <summary>Row-major [steps, tokens] alignment with all weight on peaks[t] at step t.</summary>
    private static float[] Hard(int tokens, params int[] peaks)
    {
        var a = new float[peaks.Length * tokens];
        for (int t = 0; t < peaks.Length; t++) a[t * tokens + peaks[t]] = 1f;
        return a;
    }

    /// <summary>A diagonal walk over <paramref name="tokens"/> tokens at <paramref name="stepsPerToken"/> steps each, then
    /// <paramref name="tail"/> steps resting on the last token.</summary>
    private static int[] Walk(int tokens, int stepsPerToken, int tail)
    {
        var peaks = new List<int>();
        for (int n = 0; n < tokens; n++) for (int k = 0; k < stepsPerToken; k++) peaks.Add(n);
        for (int k = 0; k < tail; k++) peaks.Add(tokens - 1);
        return peaks.ToArray();
    }

    [Fact]
    public void Scan_CleanEnd_NoStall()
    {
        // 10 tokens, 2 steps each: the last two tokens hold 4 steps, below 8.
        var peaks = Walk(10, 2, 0);
        var s = AttentionStall.Scan(Hard(10, peaks), peaks.Length, 10, 10, steps: 8);
        Assert.False(s.Stalled);
        Assert.Null(s.DetectedAt);
        Assert.Null(s.EstimatedEnd);
        Assert.Equal(peaks.Length, s.Observed);
    }

    [Fact]
    public void Scan_RestsAtLastToken_StallDetectedAndEndExtrapolated()
    {
        // 10 tokens at 2 steps each (20 steps), then 50 steps on the last token: the run at the end starts at step 16
        // (token 8), the stall completes 8 steps later (step 23), and the end is ⌈16·10/8⌉ = 20 steps.
        var peaks = Walk(10, 2, 50);
        var s = AttentionStall.Scan(Hard(10, peaks), peaks.Length, 10, 10, steps: 8);
        Assert.True(s.Stalled);
        Assert.Equal(23, s.DetectedAt);
        Assert.Equal(20, s.EstimatedEnd);
        Assert.Equal(24, s.Observed); // stops reading at the stall
    }

    [Fact]
    public void Observe_JumpBackResetsTheCount()
    {
        var s = new AttentionStall(tokens: 6, steps: 3);
        Assert.False(s.Observe(5));
        Assert.False(s.Observe(4));
        Assert.Equal(0, s.RunStart);
        Assert.False(s.Observe(1)); // attention jumped back: the run is broken
        Assert.Null(s.RunStart);
        Assert.False(s.Observe(5));
        Assert.False(s.Observe(5));
        Assert.True(s.Observe(4));
        Assert.Equal(5, s.DetectedAt);
        Assert.False(s.Observe(5)); // reports once
        Assert.True(s.Stalled);
    }

    [Fact]
    public void Observe_EstimatedEndNeverBeyondDetection_NorBeforeTheRun()
    {
        // Attention starts at the end (a broken model): start 0, so the end is one step.
        var s = new AttentionStall(tokens: 4, steps: 5);
        for (int t = 0; t < 5; t++) s.Observe(3);
        Assert.Equal(1, s.EstimatedEnd);
        // Very short text: N = 2 = L, nothing before the end; end = start + 1.
        var tiny = new AttentionStall(tokens: 2, steps: 2);
        tiny.Observe(0); tiny.Observe(1);
        Assert.Equal(1, tiny.EstimatedEnd);
    }

    [Fact]
    public void Observe_SoftRow_UsesThePeak()
    {
        var s = new AttentionStall(tokens: 5, steps: 2, lastTokens: 1);
        Assert.False(s.Observe(new float[] { 0.1f, 0.1f, 0.1f, 0.3f, 0.4f, 9f })); // the 6th value is padding: ignored
        Assert.True(s.Observe(new float[] { 0.2f, 0f, 0f, 0.1f, 0.7f }));
        Assert.Throws<ArgumentException>(() => new AttentionStall(5, 2).Observe(new float[] { 1f, 0f }));
    }

    [Theory]
    [InlineData(0, 5, 2)]
    [InlineData(5, 0, 2)]
    [InlineData(5, 5, 0)]
    public void Constructor_CountsBelowOne_Throw(int tokens, int steps, int last) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new AttentionStall(tokens, steps, last));
}
