using TacotronRecovery.Engine.Interop;
using TacotronRecovery.Core.Contract;

namespace TacotronRecovery.Host.Verbs;

/// <summary>
/// <c>forward --checkpoint F --input in.npz --out out.npz</c>: the parity tool (teacher-forced, all dropout off).
/// One JSON line <c>{"type":"forward","data":{…}}</c>.
/// </summary>
public static class ForwardVerb
{
    /// <summary>Runs the verb.</summary>
    public static int Run(Arguments args)
    {
        var checkpoint = args.Get("checkpoint") ?? throw new UsageException("forward needs --checkpoint (.ckpt or PyTorch .pt).");
        var input = args.Get("input") ?? throw new UsageException("forward needs --input (an .npz with text, input_lengths, mel, output_lengths).");
        var output = args.Get("out") ?? throw new UsageException("forward needs --out (the .npz to write).");
        args.RejectUnknown();
        return InteropOutput.Guard(() =>
        {
            var r = ParityForward.Run(checkpoint, input, output);
            EngineEnvelope.Write(Console.Out, EngineEnvelope.Forward, new
            {
                r.Path, r.Checkpoint, r.Batch, r.InputTokens, r.Frames,
                Shapes = r.Shapes.ToDictionary(kv => kv.Key, kv => kv.Value),
            });
        });
    }
}
