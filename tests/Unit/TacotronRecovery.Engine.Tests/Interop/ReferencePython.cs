using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Engine.Tests.Interop;

/// <summary>
/// Runs shared/bench/reference.py (PyTorch) with /usr/bin/python3. CI (.ci/run) installs python3-torch and
/// python3-numpy, so a missing interpreter, module or script is a test failure with the fix in the message, not a skip.
/// The script is found beside the repository (<c>../shared/bench/reference.py</c>), or at $TACOTRON_REFERENCE_PY.
/// </summary>
internal static class ReferencePython
{
    private static readonly Lazy<string?> Problem = new(Check);

    public static string Script
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("TACOTRON_REFERENCE_PY");
            if (!string.IsNullOrEmpty(env)) return env;
            return Path.GetFullPath(Path.Combine(RepoRoot(), "..", "shared", "bench", "reference.py"));
        }
    }

    /// <summary>Fails the calling test with a clear message when PyTorch or the script is unavailable.</summary>
    public static void Require()
    {
        if (Problem.Value is { } p) Assert.Fail(p);
    }

    public static string Run(params string[] args)
    {
        Require();
        var (code, output) = Exec(args);
        Assert.True(code == 0, $"python3 {string.Join(' ', args)} failed ({code}):\n{output}");
        return output;
    }

    /// <summary>dims.json for reference.py from our options.</summary>
    public static string WriteDims(string dir, ModelOptions o)
    {
        var path = Path.Combine(dir, "dims.json");
        File.WriteAllText(path, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["n_symbols"] = o.NSymbols, ["symbols_embedding_dim"] = o.SymbolsEmbeddingDim,
            ["encoder_kernel_size"] = o.EncoderKernelSize, ["encoder_n_convolutions"] = o.EncoderNConvolutions,
            ["encoder_embedding_dim"] = o.EncoderEmbeddingDim, ["n_frames_per_step"] = o.NFramesPerStep,
            ["decoder_rnn_dim"] = o.DecoderRnnDim, ["prenet_dim"] = o.PrenetDim, ["attention_rnn_dim"] = o.AttentionRnnDim,
            ["attention_dim"] = o.AttentionDim, ["attention_location_n_filters"] = o.AttentionLocationNFilters,
            ["attention_location_kernel_size"] = o.AttentionLocationKernelSize, ["postnet_embedding_dim"] = o.PostnetEmbeddingDim,
            ["postnet_kernel_size"] = o.PostnetKernelSize, ["postnet_n_convolutions"] = o.PostnetNConvolutions,
            ["n_mel_channels"] = o.NMelChannels,
        }));
        return path;
    }

    private static string? Check()
    {
        if (!File.Exists("/usr/bin/python3")) return "PyTorch interop tests need /usr/bin/python3 with torch and numpy: apt-get install -y python3-torch python3-numpy (.ci/run installs them).";
        var (code, output) = Exec("-c", "import torch, numpy");
        if (code != 0) return $"PyTorch interop tests need torch and numpy for /usr/bin/python3: apt-get install -y python3-torch python3-numpy (.ci/run installs them). python3 said: {output.Trim()}";
        if (!File.Exists(Script)) return $"PyTorch interop tests need the reference script at {Script} (shared/bench/reference.py beside the repository, or set TACOTRON_REFERENCE_PY).";
        return null;
    }

    private static (int Code, string Output) Exec(params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["OMP_NUM_THREADS"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    private static string RepoRoot([CallerFilePath] string file = "")
    {
        // tests/Unit/TacotronRecovery.Engine.Tests/Interop/ReferencePython.cs → repository root
        var dir = Path.GetDirectoryName(file)!;
        return Path.GetFullPath(Path.Combine(dir, "..", "..", "..", ".."));
    }
}
