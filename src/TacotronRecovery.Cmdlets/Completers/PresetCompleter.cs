using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Language;
using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Commands.Completers;

/// <summary>
/// Completes -Preset with the model presets of <see cref="ModelOptions.Presets"/>, each with its dimensions as the
/// tooltip (from <see cref="ModelOptions.ForPreset"/>). A ValidateSet would complete too, but it needs a second list of
/// names, and PowerShell then ignores an argument completer, so the check is <see cref="ValidatePresetAttribute"/>.
/// </summary>
internal sealed class PresetCompleter : IArgumentCompleter
{
    /// <inheritdoc />
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var (prefix, quote) = CompletionText.Parse(wordToComplete);
        return ModelOptions.Presets
            .Where(p => CompletionText.Matches(p, prefix))
            .Select(p => new CompletionResult(CompletionText.Quote(p, quote), p, CompletionResultType.ParameterValue, ToolTip(p)))
            .ToList();
    }

    /// <summary>"encoder 512 (3 convolutions), attention/decoder RNN 1024/1024, prenet 256, postnet 512 (5 convolutions), 1 frame(s) per step".</summary>
    internal static string ToolTip(string preset)
    {
        var m = ModelOptions.ForPreset(preset);
        return string.Create(CultureInfo.InvariantCulture,
            $"{preset}: encoder {m.EncoderEmbeddingDim} ({m.EncoderNConvolutions} convolutions), attention/decoder RNN {m.AttentionRnnDim}/{m.DecoderRnnDim}, " +
            $"prenet {m.PrenetDim}, postnet {m.PostnetEmbeddingDim} ({m.PostnetNConvolutions} convolutions), {m.NFramesPerStep} frame(s) per step");
    }
}

/// <summary>Accepts only a name of <see cref="ModelOptions.Presets"/> (ignoring case).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
internal sealed class ValidatePresetAttribute : ValidateEnumeratedArgumentsAttribute
{
    /// <inheritdoc />
    protected override void ValidateElement(object element)
    {
        var name = (element is PSObject o ? o.BaseObject : element) as string;
        if (name is null || !ModelOptions.Presets.Contains(name, StringComparer.OrdinalIgnoreCase))
            throw new ValidationMetadataException($"Unknown preset '{name}': expected {string.Join(", ", ModelOptions.Presets)}.");
    }
}
