using System.Text.Json;
using TacotronRecovery.Engine.Device;

namespace TacotronRecovery.Host;

/// <summary>
/// Engine process entry point. One verb per invocation; JSON lines on stdout, human text on stderr.
/// Exit codes: 0 success, 1 failure, 2 usage error.
/// </summary>
public static class Program
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.Error.WriteLine("usage: TacotronRecovery.Host <verb> [options]\n  env    report the torch runtime as one JSON line");
            return args.Length == 0 ? 2 : 0;
        }
        try
        {
            switch (args[0])
            {
                case "env":
                    Console.Out.WriteLine(JsonSerializer.Serialize(TorchRuntime.Describe(), Json));
                    return 0;
                default:
                    Console.Error.WriteLine($"Unknown verb '{args[0]}'. Run with --help for the list.");
                    return 2;
            }
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
