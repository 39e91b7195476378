using System.Management.Automation;
using System.Text.Json;
using TacotronRecovery.Commands.Engine;
using TacotronRecovery.Core.Contract;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Commands;

/// <summary>Output of Import-TacotronCheckpoint: the .ckpt written from a PyTorch checkpoint.</summary>
public sealed record ImportedCheckpoint
{
    /// <summary>The checkpoint written (.ckpt); binds to -Checkpoint/-Path of the training and synthesis cmdlets.</summary>
    public string Path { get; init; } = "";
    /// <summary>The PyTorch file read.</summary>
    public string Source { get; init; } = "";
    /// <summary>zip (PyTorch ≥ 1.6) or legacy (pre-1.6 pickle stream).</summary>
    public string Format { get; init; } = "";
    /// <summary>train.py (a dict with iteration, state_dict, optimizer) or state_dict (bare).</summary>
    public string Layout { get; init; } = "";
    /// <summary>Training step (train.py's iteration; 0 for a bare state dict).</summary>
    public int Step { get; init; }
    /// <summary>The preset the inferred dimensions equal (nvidia, small, demo), or custom.</summary>
    public string Preset { get; init; } = "";
    /// <summary>The inferred dimensions in one line.</summary>
    public string Dimensions { get; init; } = "";
    /// <summary>Trainable parameter elements.</summary>
    public long Parameters { get; init; }
    /// <summary>True when the weights were fp16 (converted to fp32).</summary>
    public bool HalfPrecision { get; init; }
    /// <summary>True when the PyTorch Adam state was carried over (else training starts a fresh optimizer).</summary>
    public bool OptimizerCarried { get; init; }
    /// <summary>Model keys left at fresh initialisation (-IgnoreLayers).</summary>
    public string[] IgnoredKeys { get; init; } = Array.Empty<string>();
    /// <summary>The model: section of a config that trains these dimensions.</summary>
    public string ConfigYaml { get; init; } = "";
}

/// <summary>
/// <para type="synopsis">Imports an NVIDIA-format PyTorch Tacotron 2 checkpoint (.pt) as a TacotronRecovery checkpoint (.ckpt).</para>
/// <para type="description">Reads train.py checkpoints ({iteration, state_dict, optimizer, learning_rate}) and bare state dicts
/// (the published pretrained file), in the zip container (PyTorch 1.6 and later) or the legacy pickle stream, with fp32 or fp16
/// weights (converted to fp32). The model dimensions are inferred from the tensor shapes; keys or shapes that do not fit are an
/// error that lists them. The Adam optimizer state is carried over when present (else a warning says training resumes with a
/// fresh optimizer). The result resumes training (Start-TacotronTraining -Checkpoint, with the ConfigYaml model section in the
/// config) and speaks (Invoke-TacotronSynthesis). Nothing in the file is executed. See docs/interop.md.</para>
/// <example><code>Import-TacotronCheckpoint -Path ./checkpoint_42000.pt</code><para>Writes ./checkpoint_42000.ckpt and shows the inferred dimensions.</para></example>
/// <example><code>Import-TacotronCheckpoint -Path ./tacotron2_statedict.pt -Destination ./warm.ckpt -IgnoreLayers embedding.weight -NSymbols 96</code><para>Warm start for a new symbol set: every layer but the embedding comes from the file.</para></example>
/// </summary>
[Cmdlet(VerbsData.Import, "TacotronCheckpoint", SupportsShouldProcess = true)]
[OutputType(typeof(ImportedCheckpoint))]
public sealed class ImportTacotronCheckpointCommand : PSCmdlet
{
    /// <summary><para type="description">The PyTorch checkpoint (.pt) to import.</para></summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    public string Path { get; set; } = "";

    /// <summary><para type="description">The .ckpt to write. Default: the source path with the extension .ckpt.</para></summary>
    [Parameter(Position = 1)]
    public string? Destination { get; set; }

    /// <summary><para type="description">State-dict key prefixes left at fresh initialisation, as the reference's warm start
    /// (ignore_layers), e.g. embedding.weight for a new symbol set or decoder.prenet for an n_frames_per_step &gt; 1 file.</para></summary>
    [Parameter]
    public string[] IgnoreLayers { get; set; } = Array.Empty<string>();

    /// <summary><para type="description">Symbols of the new model when embedding.weight is ignored. Default: the file's.</para></summary>
    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int NSymbols { get; set; }

    /// <summary><para type="description">Overwrite an existing destination.</para></summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        if (!this.TryConversionPaths(Path, Destination, ".ckpt", Force, "PyTorch checkpoint", out var source, out var destination)) return;
        if (!ShouldProcess(destination, $"Import PyTorch checkpoint '{source}'")) return;
        var args = new List<string> { "import", "--source", source, "--out", destination };
        if (IgnoreLayers.Length > 0) { args.Add("--ignore-layers"); args.Add(string.Join(",", IgnoreLayers)); }
        if (NSymbols > 0) { args.Add("--n-symbols"); args.Add(NSymbols.ToString(System.Globalization.CultureInfo.InvariantCulture)); }
        if (EngineVerb.Run(this, source, "ImportFailed", EngineEnvelope.Import, TimeSpan.FromMinutes(15), args.ToArray()) is not { } data) return;
        var result = data.Deserialize<ImportedCheckpoint>(RunJson.Options)!;
        if (data.TryGetProperty("warnings", out var warnings))
            foreach (var w in warnings.EnumerateArray()) WriteWarning(w.GetString());
        WriteObject(result);
    }
}
