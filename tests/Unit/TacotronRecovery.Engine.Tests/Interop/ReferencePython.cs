using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Engine.Tests.Interop;

/// <summary>
/// Runs the repository's PyTorch reference Tacotron 2 (tools/reference/tacotron2_reference.py) with /usr/bin/python3
/// (or $TACOTRON_PYTHON). <c>build.ps1 test</c> installs Debian's python3-torch and python3-numpy when it can; where
/// that interpreter cannot import torch and numpy, the tests marked <see cref="PyTorchFactAttribute"/> or
/// <see cref="PyTorchTheoryAttribute"/> are skipped with <see cref="SkipReason"/>. The script is part of the
/// repository, so a missing script is a failure ($TACOTRON_REFERENCE_PY points to another copy).
/// </summary>
internal static class ReferencePython
{
    private static readonly Lazy<string?> Unavailable = new(Check);

    public static string Interpreter =>
        Environment.GetEnvironmentVariable("TACOTRON_PYTHON") is { Length: > 0 } p ? p : "/usr/bin/python3";

    public static string Script =>
        Environment.GetEnvironmentVariable("TACOTRON_REFERENCE_PY") is { Length: > 0 } s
            ? s
            : Path.Combine(RepoRoot(), "tools", "reference", "tacotron2_reference.py");

    /// <summary>Why the PyTorch tests cannot run here (the interpreter lacks torch or numpy), or null when they can.</summary>
    public static string? SkipReason => Unavailable.Value;

    /// <summary>Python lines that make the reference importable as <c>R</c> (for snippets the tests run).</summary>
    public static string ImportReference =>
        $"import sys\nsys.path.insert(0, {JsonSerializer.Serialize(Path.GetDirectoryName(Script))})\nimport {Path.GetFileNameWithoutExtension(Script)} as R";

    public static string Run(params string[] args)
    {
        Assert.True(File.Exists(Script), $"The PyTorch reference script is missing: {Script} (tools/reference/tacotron2_reference.py of the repository, or $TACOTRON_REFERENCE_PY).");
        var (code, output) = Exec(args);
        Assert.True(code == 0, $"{Interpreter} {string.Join(' ', args)} failed ({code}):\n{output}");
        return output;
    }

    /// <summary>dims.json for the reference from our options.</summary>
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
        const string install = "install python3-torch and python3-numpy (build.ps1 test does so as root on Debian/Ubuntu)";
        if (!File.Exists(Interpreter)) return $"PyTorch reference tests skipped: no {Interpreter}; {install}.";
        var (code, output) = Exec("-c", "import torch, numpy");
        if (code != 0)
        {
            var said = output.Trim().Split('\n')[^1];
            return $"PyTorch reference tests skipped: {Interpreter} cannot import torch and numpy ({said}); {install}.";
        }

        return null;
    }

    private static (int Code, string Output) Exec(params string[] args)
    {
        var psi = new ProcessStartInfo(Interpreter) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
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

/// <summary>A fact that needs the PyTorch reference: skipped with the reason where python3 lacks torch or numpy.</summary>
public sealed class PyTorchFactAttribute : FactAttribute
{
    public PyTorchFactAttribute()
    {
        if (ReferencePython.SkipReason is { } reason) Skip = reason;
    }
}

/// <summary>A theory that needs the PyTorch reference: skipped with the reason where python3 lacks torch or numpy.</summary>
public sealed class PyTorchTheoryAttribute : TheoryAttribute
{
    public PyTorchTheoryAttribute()
    {
        if (ReferencePython.SkipReason is { } reason) Skip = reason;
    }
}
