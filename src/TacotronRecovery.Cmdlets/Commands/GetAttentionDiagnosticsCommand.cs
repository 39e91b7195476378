using System.Management.Automation;
using System.Text.Json;
using TacotronRecovery.Commands.Engine;
using TacotronRecovery.Core.Contract;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Commands;

/// <summary>Output of Get-AttentionDiagnostics: how one sentence came out when the model ran free (no teacher forcing).</summary>
public sealed record UtteranceDiagnostics
{
    /// <summary>Utterance id from the dataset, or text-1, text-2, ... for -Text.</summary>
    public string Id { get; init; } = "";
    /// <summary>Transcript synthesised.</summary>
    public string Text { get; init; } = "";
    /// <summary>Input tokens after cleaning.</summary>
    public int Tokens { get; init; }
    /// <summary>Mel frames of the reference recording (null for -Text).</summary>
    public int? TrueFrames { get; init; }
    /// <summary>Mel frames generated until the gate fired (the decoder step limit when it never fired).</summary>
    public int PredictedFrames { get; init; }
    /// <summary>True when neither the gate nor the stall detector ended the synthesis within the decoder step limit.</summary>
    public bool HitMaxSteps { get; init; }
    /// <summary>What ended the synthesis: Gate, Stall (the attention rested at the last tokens; PredictedFrames is then the
    /// estimated end of speech) or StepLimit. See docs/model.md, Gate.</summary>
    public string? StoppedBy { get; init; }
    /// <summary>Best-monotonic-path band mass, chance-corrected, times token coverage (0..1); see docs/metrics.md.</summary>
    public double Diagonality { get; init; }
    /// <summary>Mean over decoder steps of the largest attention weight (sharpness, 0..1).</summary>
    public double FocusRate { get; init; }
    /// <summary>Mean over tokens of the largest weight any decoder step gives it (0..1).</summary>
    public double Coverage { get; init; }
    /// <summary>Share of decoder steps whose most-attended token does not move backwards (0..1).</summary>
    public double Monotonicity { get; init; }
    /// <summary>True when attention reached the last tokens.</summary>
    public bool ReachedEnd { get; init; }
    /// <summary>True when attention reached the last tokens long before the audio ended and stayed there.</summary>
    public bool EndStall { get; init; }
    /// <summary>Stopped within ±max(3 decoder steps, 5 %) of the true end with attention at the last tokens (null for -Text).</summary>
    public bool? StopCorrect { get; init; }
    /// <summary>Ended (gate fired) within ±10 % of the recording's length in frames (null for -Text).</summary>
    public bool? LengthWithin10 { get; init; }
    /// <summary>Mel cepstral distortion with DTW against the recording, dB, from our log mel (docs/metrics.md; null for -Text).</summary>
    public double? McdDtw { get; init; }
    /// <summary>Attention PNG written (with -PlotFolder).</summary>
    public string? Plot { get; init; }
    /// <summary>Checkpoint diagnosed.</summary>
    public string Checkpoint { get; init; } = "";
    /// <summary>Training step of the checkpoint.</summary>
    public int Step { get; init; }
}

/// <summary>
/// <para type="synopsis">Synthesises held-out sentences free-running with a checkpoint and reports per-utterance attention and stop metrics.</para>
/// <para type="description">Runs in the engine process. Each sentence is decoded on its own, free-running (the model feeds
/// back its own frames and the gate decides where to stop; no vocoder), exactly as at inference, and its attention is
/// scored: Diagonality, FocusRate, Coverage, Monotonicity, ReachedEnd and EndStall (definitions in docs/metrics.md).
/// For dataset sentences the true length is known, so StopCorrect says whether the gate fired within ±max(3 decoder
/// steps, 5 %) of the true end with attention at the last tokens, LengthWithin10 whether it ended within ±10 % of the
/// recording's length, and McdDtw the mel cepstral distortion (dB) against the recording. Teacher-forced training metrics can look fine while
/// free-running synthesis babbles, skips or never stops; this shows which sentences fail and how.
/// Sentences come from the validation split of the run's dataset (the config.yaml of the run the checkpoint belongs
/// to names it; -Dataset overrides), the first -Count usable ones in file order, so repeated calls compare like with
/// like; or from -Text. -PlotFolder writes one attention heatmap per utterance.
/// Errors: CheckpointCorrupt (missing, truncated or tampered checkpoint; it is never loaded), DatasetNotFound (no
/// dataset known or the folder is missing: pass -Dataset), ConfigInvalid (the run's config.yaml cannot be read).</para>
/// <example><code>Get-AttentionDiagnostics -Checkpoint runs/voice/checkpoints/step-004000.ckpt | Format-Table</code><para>Eight validation sentences of the run's dataset.</para></example>
/// <example><code>Get-TacotronCheckpoint -Run voice -Latest | Get-AttentionDiagnostics -Count 20 | Where-Object { -not $_.StopCorrect } | Sort-Object Diagonality</code><para>The held-out sentences the newest checkpoint gets wrong, worst attention first.</para></example>
/// <example><code>Get-AttentionDiagnostics -Checkpoint ./best.ckpt -Text 'A long sentence, with commas; and a question?' -PlotFolder ./attention</code><para>Free text, with one attention PNG per sentence.</para></example>
/// <example><code>Get-AttentionDiagnostics -Checkpoint ./imported.ckpt -Dataset /data/LJSpeech-1.1 | Measure-Object Diagonality -Average</code><para>A checkpoint outside a run folder: name the dataset.</para></example>
/// </summary>
[Cmdlet(VerbsCommon.Get, "AttentionDiagnostics", DefaultParameterSetName = DatasetSet)]
[OutputType(typeof(UtteranceDiagnostics))]
public sealed class GetAttentionDiagnosticsCommand : PSCmdlet
{
    private const string DatasetSet = "Dataset";
    private const string TextSet = "Text";
    private EngineSession? _session;

    /// <summary><para type="description">Checkpoint file (.ckpt). Binds the Path or Checkpoint property of piped objects (Get-TacotronCheckpoint).</para></summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Path")]
    [ValidateNotNullOrEmpty]
    public string Checkpoint { get; set; } = "";

    /// <summary><para type="description">Dataset folder (LJSpeech layout) to take validation sentences from. Default: data.path of the run the checkpoint belongs to.</para></summary>
    [Parameter(ParameterSetName = DatasetSet)]
    public string? Dataset { get; set; }

    /// <summary><para type="description">How many validation sentences (the first usable ones of the split, in file order). Default 8.</para></summary>
    [Parameter(ParameterSetName = DatasetSet)]
    [ValidateRange(1, 1000)]
    public int Count { get; set; } = 8;

    /// <summary><para type="description">Sentences to synthesise instead of validation sentences (no true length: TrueFrames and StopCorrect stay empty).</para></summary>
    [Parameter(ParameterSetName = TextSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string[] Text { get; set; } = Array.Empty<string>();

    /// <summary><para type="description">Folder for one attention heatmap PNG per utterance (attention-&lt;id&gt;.png); created when missing.</para></summary>
    [Parameter]
    public string? PlotFolder { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        var checkpoint = GetUnresolvedProviderPathFromPSPath(Checkpoint);
        if (!File.Exists(checkpoint))
        {
            WriteError(new ErrorRecord(new FileNotFoundException($"Checkpoint '{checkpoint}' does not exist.", checkpoint),
                "CheckpointCorrupt", ErrorCategory.ObjectNotFound, checkpoint));
            return;
        }
        var args = new List<string> { "diagnose", "--checkpoint", checkpoint };
        int expected = Count;
        if (ParameterSetName == TextSet)
        {
            var texts = Text.Select(t => t.ReplaceLineEndings(" ").Trim()).ToArray();
            if (texts.Any(t => t.Length == 0))
            {
                WriteError(new ErrorRecord(new ArgumentException("-Text contains an empty sentence."), "InvalidArgument", ErrorCategory.InvalidArgument, Text));
                return;
            }
            args.Add("--text"); args.Add(string.Join('\n', texts));
            expected = texts.Length;
        }
        else
        {
            args.Add("--count"); args.Add(Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (Dataset is not null) { args.Add("--dataset"); args.Add(GetUnresolvedProviderPathFromPSPath(Dataset)); }
        }
        if (PlotFolder is not null) { args.Add("--plot-folder"); args.Add(GetUnresolvedProviderPathFromPSPath(PlotFolder)); }

        int done = 0;
        var progress = new ProgressRecord(3, $"Diagnosing {System.IO.Path.GetFileName(checkpoint)}", "loading the checkpoint and the sentences");
        WriteProgress(progress);
        try
        {
            _session = EngineSession.Start(args);
            foreach (var record in _session.ReadRecords())
            {
                switch (record.Type)
                {
                    case EngineEnvelope.Diagnosis:
                        var item = record.As<UtteranceDiagnostics>()!;
                        done++;
                        progress.StatusDescription = $"{done} of {expected}: {item.Id}";
                        progress.PercentComplete = Math.Clamp(100 * done / Math.Max(1, expected), 0, 100);
                        WriteProgress(progress);
                        if (item.HitMaxSteps) WriteVerbose($"{item.Id}: the gate never fired within the decoder step limit.");
                        WriteObject(item);
                        break;
                    case EngineEnvelope.Warning:
                        WriteWarning(record.Data.GetProperty("message").GetString());
                        break;
                }
            }
        }
        catch (Exception e) when (e is FileNotFoundException or System.ComponentModel.Win32Exception or InvalidOperationException or JsonException)
        {
            WriteError(new ErrorRecord(e, "EngineFailed", ErrorCategory.InvalidOperation, checkpoint));
            return;
        }
        finally
        {
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
        }
        if (_session.ExitCode != ExitCodes.Ok && _session.ToError(Dataset ?? checkpoint, badInputId: "CheckpointCorrupt", failureId: "DiagnosticsFailed") is { } error) WriteError(error);
        _session.Dispose();
        _session = null;
    }

    /// <summary>Ctrl+C: the engine is ended (it writes nothing, so nothing is lost).</summary>
    protected override void StopProcessing() => _session?.Dispose();
}
