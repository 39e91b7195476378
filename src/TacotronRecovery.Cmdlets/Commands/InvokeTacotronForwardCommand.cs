using System.Management.Automation;
using System.Text.Json;
using TacotronRecovery.Commands.Engine;
using TacotronRecovery.Core.Contract;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Commands;

/// <summary>Output of Invoke-TacotronForward.</summary>
public sealed record ForwardOutput
{
    /// <summary>The .npz written.</summary>
    public string Path { get; init; } = "";
    /// <summary>The checkpoint used.</summary>
    public string Checkpoint { get; init; } = "";
    /// <summary>Utterances in the batch.</summary>
    public int Batch { get; init; }
    /// <summary>Padded text length N.</summary>
    public int InputTokens { get; init; }
    /// <summary>Padded mel length T.</summary>
    public int Frames { get; init; }
    /// <summary>Array name → shape, e.g. alignments [B, T/r, N].</summary>
    public string[] Arrays { get; init; } = Array.Empty<string>();
}

/// <summary>
/// <para type="synopsis">The parity tool: a teacher-forced forward pass with all dropout off, from and to NumPy .npz files.</para>
/// <para type="description">Reads text (int64 [B, N]), input_lengths [B], mel (float32 [B, n_mel, T]) and output_lengths [B]
/// from InputFile and writes encoder_outputs [B, N, E], mel_outputs and mel_outputs_postnet [B, n_mel, T], gate_outputs [B, T]
/// and alignments [B, T/r, N] (float32, the reference's shapes) to OutputFile. Every dropout is off, including the prenet's
/// (which the reference keeps on even in eval), and batch norm uses its running statistics, so the same inputs through a
/// PyTorch model in eval with prenet dropout off must agree. The checkpoint may be a .ckpt or an NVIDIA-format .pt.
/// See docs/interop.md for the measured agreement and where padding makes the two differ by design.</para>
/// <example><code>Invoke-TacotronForward -Checkpoint ./voice.ckpt -InputFile ./batch.npz -OutputFile ./ours.npz</code><para>Writes ours.npz; compare it with numpy against the PyTorch model's outputs.</para></example>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "TacotronForward", SupportsShouldProcess = true)]
[OutputType(typeof(ForwardOutput))]
public sealed class InvokeTacotronForwardCommand : PSCmdlet
{
    /// <summary><para type="description">Checkpoint: ours (.ckpt) or an NVIDIA-format PyTorch file (.pt).</para></summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Path")]
    public string Checkpoint { get; set; } = "";

    /// <summary><para type="description">The .npz with text, input_lengths, mel and output_lengths.</para></summary>
    [Parameter(Mandatory = true)]
    public string InputFile { get; set; } = "";

    /// <summary><para type="description">The .npz to write.</para></summary>
    [Parameter(Mandatory = true)]
    public string OutputFile { get; set; } = "";

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        var checkpoint = GetUnresolvedProviderPathFromPSPath(Checkpoint);
        var input = GetUnresolvedProviderPathFromPSPath(InputFile);
        var output = GetUnresolvedProviderPathFromPSPath(OutputFile);
        foreach (var (file, id) in new[] { (checkpoint, "CheckpointNotFound"), (input, "InputNotFound") })
        {
            if (!File.Exists(file))
            {
                WriteError(new ErrorRecord(new FileNotFoundException($"'{file}' does not exist.", file), id, ErrorCategory.ObjectNotFound, file));
                return;
            }
        }
        if (!ShouldProcess(output, $"Forward '{input}' through '{checkpoint}'")) return;
        if (EngineVerb.Run(this, checkpoint, "ForwardFailed", EngineEnvelope.Forward, TimeSpan.FromMinutes(15), "forward", "--checkpoint", checkpoint, "--input", input, "--out", output) is not { } data) return;
        var arrays = data.GetProperty("shapes").EnumerateObject()
            .Select(p => $"{p.Name} [{string.Join(", ", p.Value.EnumerateArray().Select(x => x.GetInt64()))}]").ToArray();
        WriteObject(new ForwardOutput
        {
            Path = data.GetProperty("path").GetString() ?? output,
            Checkpoint = data.GetProperty("checkpoint").GetString() ?? checkpoint,
            Batch = data.GetProperty("batch").GetInt32(),
            InputTokens = data.GetProperty("input_tokens").GetInt32(),
            Frames = data.GetProperty("frames").GetInt32(),
            Arrays = arrays,
        });
    }
}
