using TacotronRecovery.Core.Audio;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Engine.Inference;
using TacotronRecovery.Core.Contract;

namespace TacotronRecovery.Host.Verbs;

/// <summary><c>synthesize --checkpoint F --text "..." --out F.wav [--plot F.png]</c>: one JSON line with the result.</summary>
public static class SynthesizeVerb
{
    /// <summary>Runs the verb.</summary>
    public static int Run(Arguments args)
    {
        var checkpoint = args.Get("checkpoint") ?? throw new UsageException("synthesize needs --checkpoint.");
        var text = args.Get("text") ?? throw new UsageException("synthesize needs --text.");
        var output = args.Get("out") ?? throw new UsageException("synthesize needs --out (a .wav path).");
        var plot = args.Get("plot");
        int iterations = args.Int("griffin-lim-iterations") ?? 60;
        args.RejectUnknown();
        using var synthesizer = new Synthesizer(checkpoint);
        var r = synthesizer.Synthesize(text, iterations);
        WavFile.Write(output, r.Audio, r.SampleRate);
        if (plot is not null) Plots.Alignment(plot, r.Alignment, r.AlignmentSteps, r.Tokens, $"\"{Truncate(r.CleanedText, 60)}\"");
        EngineEnvelope.Write(Console.Out, EngineEnvelope.Synthesis, new
        {
            r.Text, Path = Path.GetFullPath(output), Plot = plot is null ? null : Path.GetFullPath(plot), r.Tokens, r.Frames,
            DurationSeconds = r.Audio.Length / (double)r.SampleRate, r.HitMaxSteps, StoppedBy = r.StoppedBy.ToString(), r.Diagonality, r.Seconds,
        });
        return ExitCodes.Ok;
    }

    private static string Truncate(string s, int n) => s.Length <= n ? s : s[..n] + "…";
}
