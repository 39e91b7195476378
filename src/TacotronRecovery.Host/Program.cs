using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Engine.Checkpoints;
using TacotronRecovery.Engine.Runtime;
using TacotronRecovery.Host.Verbs;
using TacotronRecovery.Core.Contract;

namespace TacotronRecovery.Host;

/// <summary>
/// Engine process entry point. One verb per invocation; JSON lines on stdout (<see cref="EngineEnvelope"/>), human
/// text on stderr; exit codes in <see cref="ExitCodes"/> (docs/engine.md).
/// </summary>
public static class Program
{
    private const string Usage = """
        usage: TacotronRecovery.Host <verb> [options]
          env          report the torch runtime as one JSON line
          train        train one run in this process
                       --config F --run NAME|DIR --runs-root DIR --dataset DIR --preset nvidia|small|demo
                       --max-steps N --device auto|cpu|cuda --threads N --resume --checkpoint F --quiet
          supervise    like train, but restarts a dying engine from the last good checkpoint (recovery controller decides)
                       --detach: own session, stdin /dev/null, output to <run>/logs/ (Start-TacotronTraining -Detached)
                       --command '["torchrun",…,"-c","{checkpoint}"]': supervise that external command instead of our engine
                       [--grace-seconds S] (docs/scale-out-supervisor.md)
          synthesize   --checkpoint F --text "..." --out F.wav [--plot F.png]
          diagnose     --checkpoint F [--dataset DIR | --config F] [--count N] [--text "a\nb"] [--plot-folder DIR]
          import       a PyTorch (NVIDIA) checkpoint to our format; export: ours to PyTorch; forward: parity forward (.npz)
          import       --source F.pt --out F.ckpt [--ignore-layers a,b] [--n-symbols N]   (NVIDIA PyTorch checkpoint)
          export       --checkpoint F.ckpt --out F.pt [--format pytorch] [--layout train.py|state_dict]
          forward      --checkpoint F --input in.npz --out out.npz   (parity: teacher-forced, dropout off)
          bench        --preset small|nvidia --threads N --steps N [--warmup N] [--r N] [--health] [--phases] [--plain] [--json]
          bench        --products --threads N   (matrix-product throughput: MKL kernels and weight layout)
          mels         --dataset DIR|--config F --out DIR [--count N] [--split train|validation]
                       (<id>.npy float32 [n_mel, frames] + filelist.txt 'id|token ids|text', for PyTorch scripts)
        exit codes: 0 ok, 1 error, 2 usage, 3 recovery exhausted, 4 run locked, 5 bad input
        """;

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.Error.WriteLine(Usage);
            return args.Length == 0 ? ExitCodes.Usage : ExitCodes.Ok;
        }
        try
        {
            // Before the first matrix product and convolution: MKL caches its kernel choice, and oneDNN's convolutions gave
            // garbage gradients here (Runtime/OneDnn.cs); before the first tensor: the heap's thresholds (Runtime/NativeHeap.cs).
            // Not in the supervisor, which never loads libtorch.
            if (args[0] != "supervise")
            {
                NativeHeap.Tune();
                MklDispatch.Enable();
                OneDnn.Disable();
                if (GcStress.StartIfRequested() is { } ms) Console.Error.WriteLine($"gc stress: a full collection every {ms} ms ({GcStress.Variable})");
            }
            var rest = args.Skip(1);
            switch (args[0])
            {
                case "env":
                    EngineEnvelope.Write(Console.Out, EngineEnvelope.Env, TorchRuntime.Describe());
                    return ExitCodes.Ok;
                case "train":
                    return TrainVerb.Run(new Arguments(rest, "resume", "quiet", "supervised", "restarted"));
                case "supervise":
                    return SuperviseVerb.Run(new Arguments(rest, "resume", "quiet", "detach"));
                case "synthesize":
                    return SynthesizeVerb.Run(new Arguments(rest));
                case "diagnose": return DiagnoseVerb.Run(new Arguments(rest));
                case "import":
                    return ImportVerb.Run(new Arguments(rest));
                case "export":
                    return ExportVerb.Run(new Arguments(rest));
                case "forward":
                    return ForwardVerb.Run(new Arguments(rest));
                case "mels": return MelsVerb.Run(new Arguments(rest));
                case "bench": return BenchVerb.Run(new Arguments(rest, "health", "json", "phases", "plain", "products"));
                default:
                    Console.Error.WriteLine($"Unknown verb '{args[0]}'.\n{Usage}");
                    return ExitCodes.Usage;
            }
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (RunDataException e) when (e.ErrorId == "RunLocked")
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.Locked;
        }
        catch (Exception e) when (e is ConfigException or CheckpointCorruptException or DataLoadException or FileNotFoundException or DirectoryNotFoundException)
        {
            // The ErrorId the cmdlet reports, where the exception says what was bad; a missing file is named by the
            // cmdlet from what it asked for (a checkpoint, a dataset).
            string? id = e switch
            {
                ConfigException c => c.ErrorId,
                CheckpointCorruptException => "CheckpointCorrupt",
                DataLoadException => "DataInvalid",
                _ => null,
            };
            if (id is not null) EngineEnvelope.Write(Console.Out, EngineEnvelope.Error, new EngineError { ErrorId = id, Message = e.Message });
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"error: {e.GetType().Name}: {e.Message}");
            Console.Error.WriteLine(e.StackTrace);
            return ExitCodes.Error;
        }
    }
}
