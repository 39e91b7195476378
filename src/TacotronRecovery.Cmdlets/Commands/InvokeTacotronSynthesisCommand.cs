using System.Management.Automation;
using System.Text.Json;
using TacotronRecovery.Commands.Engine;
using TacotronRecovery.Core.Contract;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Commands;

/// <summary>Output of Invoke-TacotronSynthesis.</summary>
public sealed record SynthesisInfo
{
    /// <summary>The text spoken.</summary>
    public string Text { get; init; } = "";
    /// <summary>The WAV written.</summary>
    public string Path { get; init; } = "";
    /// <summary>The alignment PNG written, if any.</summary>
    public string? Plot { get; init; }
    /// <summary>Input tokens.</summary>
    public int Tokens { get; init; }
    /// <summary>Mel frames generated.</summary>
    public int Frames { get; init; }
    /// <summary>Audio length, seconds.</summary>
    public double DurationSeconds { get; init; }
    /// <summary>True when the decoder hit its step limit (neither the gate nor the stall detector ended it).</summary>
    public bool HitMaxSteps { get; init; }
    /// <summary>What ended the synthesis: Gate, Stall (the attention rested at the last tokens; the audio ends at the
    /// estimated end of speech) or StepLimit. See docs/model.md, Gate.</summary>
    public string? StoppedBy { get; init; }
    /// <summary>Diagonality of the free-running alignment (0..1).</summary>
    public double Diagonality { get; init; }
    /// <summary>Synthesis time (model only), seconds.</summary>
    public double Seconds { get; init; }
}

/// <summary>
/// <para type="synopsis">Speaks text with a trained checkpoint: text → mel → Griffin-Lim WAV, plus the alignment PNG.</para>
/// <para type="description">Runs in the engine process. The mel is generated free-running (the gate decides where to stop;
/// HitMaxSteps says when it never fired) and turned into audio with Griffin-Lim (60 iterations), so the result can be
/// listened to without a vocoder. The alignment heatmap shows whether attention followed the text.</para>
/// <example><code>Invoke-TacotronSynthesis -Checkpoint runs/demo/checkpoints/step-001000.ckpt -Text 'The quick brown fox.' -OutFile fox.wav</code><para>Writes fox.wav and fox.png.</para></example>
/// <example><code>Get-TacotronCheckpoint -Run demo -Latest | Invoke-TacotronSynthesis -Text 'Hello there.' -OutFile hello.wav</code><para>Uses the newest checkpoint of a run.</para></example>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "TacotronSynthesis", SupportsShouldProcess = true)]
[OutputType(typeof(SynthesisInfo))]
public sealed class InvokeTacotronSynthesisCommand : PSCmdlet
{
    /// <summary><para type="description">Checkpoint file (.ckpt).</para></summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Path")]
    public string Checkpoint { get; set; } = "";

    /// <summary><para type="description">Text to speak.</para></summary>
    [Parameter(Mandatory = true, Position = 0)]
    public string Text { get; set; } = "";

    /// <summary><para type="description">WAV file to write.</para></summary>
    [Parameter(Mandatory = true)]
    public string OutFile { get; set; } = "";

    /// <summary><para type="description">Alignment PNG to write. Default: the WAV path with .png.</para></summary>
    [Parameter]
    public string? PlotFile { get; set; }

    /// <summary><para type="description">Do not write the alignment PNG.</para></summary>
    [Parameter]
    public SwitchParameter NoPlot { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        var checkpoint = GetUnresolvedProviderPathFromPSPath(Checkpoint);
        if (!File.Exists(checkpoint))
        {
            WriteError(new ErrorRecord(new FileNotFoundException($"Checkpoint '{checkpoint}' does not exist.", checkpoint), "CheckpointNotFound", ErrorCategory.ObjectNotFound, checkpoint));
            return;
        }
        var output = GetUnresolvedProviderPathFromPSPath(OutFile);
        string? plot = NoPlot ? null : PlotFile is null ? System.IO.Path.ChangeExtension(output, ".png") : GetUnresolvedProviderPathFromPSPath(PlotFile);
        if (!ShouldProcess(output, $"Synthesise \"{Text}\"")) return;
        var args = new List<string> { "synthesize", "--checkpoint", checkpoint, "--text", Text, "--out", output };
        if (plot is not null) { args.Add("--plot"); args.Add(plot); }
        if (EngineVerb.Run(this, checkpoint, "SynthesisFailed", EngineEnvelope.Synthesis, TimeSpan.FromMinutes(10), args.ToArray()) is not { } data) return;
        var info = data.Deserialize<SynthesisInfo>(RunJson.Options)!;
        if (info.HitMaxSteps) WriteWarning($"The decoder hit its step limit: the gate never fired for \"{Text}\". The model may need more training.");
        else if (info.StoppedBy == "Stall") WriteWarning($"The gate did not fire for \"{Text}\": the stall detector ended the synthesis where the attention came to rest at the last tokens. The model may need more training.");
        WriteObject(info);
    }
}
