using System.Management.Automation;
using System.Text.Json;
using TacotronRecovery.Commands.Engine;
using TacotronRecovery.Core.Contract;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Commands;

/// <summary>Output of Export-TacotronCheckpoint.</summary>
public sealed record ExportedCheckpoint
{
    /// <summary>The file written.</summary>
    public string Path { get; init; } = "";
    /// <summary>The .ckpt read.</summary>
    public string Source { get; init; } = "";
    /// <summary>The format written (PyTorch).</summary>
    public string Format { get; init; } = "";
    /// <summary>Training step of the checkpoint.</summary>
    public int Step { get; init; }
    /// <summary>Tensors written (parameters and batch-norm buffers).</summary>
    public int Tensors { get; init; }
    /// <summary>train.py (NVIDIA's checkpoint dict: iteration, state_dict, optimizer, learning_rate) or state_dict (bare).</summary>
    public string Layout { get; init; } = "";
    /// <summary>The learning_rate written (train.py layout): the checkpoint's optimizer's, else 1e-3.</summary>
    public double LearningRate { get; init; }
    /// <summary>True when the checkpoint's Adam state was written as the file's optimizer (train.py layout).</summary>
    public bool OptimizerCarried { get; init; }
}

/// <summary>
/// <para type="synopsis">Exports a TacotronRecovery checkpoint (.ckpt) as a PyTorch file the NVIDIA reference model loads.</para>
/// <para type="description">Writes the checkpoint as NVIDIA's train.py saves one (fp32, the reference's keys, the zip container of
/// PyTorch 1.6 and later): a dict with iteration (the step), state_dict, optimizer (the Adam state, so train.py -c resumes
/// with it) and learning_rate. -Layout StateDict writes the bare state dict instead, which
/// model.load_state_dict(torch.load(path), strict=True) loads. See docs/interop.md and docs/scale-out.md.</para>
/// <example><code>Export-TacotronCheckpoint -Path runs/voice/checkpoints/step-004000.ckpt -Format PyTorch -Destination ./voice-4000.pt</code><para>Writes voice-4000.pt.</para></example>
/// <example><code>Get-TacotronCheckpoint -Run voice -Latest | Export-TacotronCheckpoint -Format PyTorch</code><para>Exports the newest checkpoint beside it, as step-NNNNNN.pt.</para></example>
/// <example><code>Export-TacotronCheckpoint -Path runs/voice/checkpoints/step-004000.ckpt -Destination ./weights.pt -Layout StateDict</code><para>Writes only the weights, for load_state_dict.</para></example>
/// </summary>
[Cmdlet(VerbsData.Export, "TacotronCheckpoint", SupportsShouldProcess = true)]
[OutputType(typeof(ExportedCheckpoint))]
public sealed class ExportTacotronCheckpointCommand : PSCmdlet
{
    /// <summary><para type="description">The checkpoint (.ckpt) to export.</para></summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Checkpoint", "FullName")]
    public string Path { get; set; } = "";

    /// <summary><para type="description">Target format. PyTorch: a state dict for torch.load.</para></summary>
    [Parameter]
    [ValidateSet("PyTorch")]
    public string Format { get; set; } = "PyTorch";

    /// <summary><para type="description">The file to write. Default: the checkpoint path with the extension .pt.</para></summary>
    [Parameter(Position = 1)]
    public string? Destination { get; set; }

    /// <summary><para type="description">TrainPy (default): NVIDIA train.py's dict {iteration, state_dict, optimizer, learning_rate}.
    /// StateDict: the bare state dict.</para></summary>
    [Parameter]
    [ValidateSet("TrainPy", "StateDict")]
    public string Layout { get; set; } = "TrainPy";

    /// <summary><para type="description">Overwrite an existing destination.</para></summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        if (!this.TryConversionPaths(Path, Destination, ".pt", Force, "Checkpoint", out var source, out var destination)) return;
        if (!ShouldProcess(destination, $"Export '{source}' as {Format}")) return;
        if (EngineVerb.Run(this, source, "ExportFailed", EngineEnvelope.Export, TimeSpan.FromMinutes(15), "export", "--checkpoint", source, "--out", destination, "--format", Format.ToLowerInvariant(), "--layout", Layout == "StateDict" ? "state_dict" : "train.py") is not { } data) return;
        WriteObject(data.Deserialize<ExportedCheckpoint>(RunJson.Options)!);
    }
}
