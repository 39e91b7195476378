using System.Text.Json;
using System.Text.Json.Serialization;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Recovery;

/// <summary>
/// <c>knobs.json</c>: the recovery controller's <see cref="Knobs"/> as an external command's ranks take them (the
/// adapter re-reads the file whenever it changes). Null means "the script's own value": in Normal mode every knob is
/// null (the script runs as it would alone); in safe mode the learning rate and clip threshold are the controller's and
/// mixed precision and MMI are off; in safe mode and attention critical mode guided attention is on with the
/// controller's weight. <see cref="Version"/> grows with every write.
/// </summary>
public sealed record KnobsFile
{
    /// <summary>Grows by one with every write.</summary>
    public int Version { get; init; }
    /// <summary>Learning rate for every optimizer param group, or null (the script's).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public double? LearningRate { get; init; }
    /// <summary>Gradient clipping threshold, or null (the script's).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public double? ClipThreshold { get; init; }
    /// <summary>Guided-attention loss weight, or null (the script's).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public double? GuidedAttentionWeight { get; init; }
    /// <summary>Guided attention on (true in safe mode and attention critical mode), or null (the script's).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public bool? GuidedAttentionEnabled { get; init; }
    /// <summary>Mixed precision (false in safe mode), or null (the script's).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public bool? MixedPrecision { get; init; }
    /// <summary>MMI loss (false in safe mode), or null (the script's).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public bool? Mmi { get; init; }
    /// <summary>Safe-mode level (0 = normal).</summary>
    public int SafeModeLevel { get; init; }
    /// <summary>Normal, SafeMode, AttentionCritical or SafeMode+AttentionCritical.</summary>
    public string Mode { get; init; } = "Normal";
    /// <summary>Skip the optimizer step on a non-finite loss or gradient (always true).</summary>
    public bool SkipNonfinite { get; init; } = true;

    /// <summary>The knobs of <paramref name="controller"/> now (version 0; <see cref="Write"/> numbers it).</summary>
    public static KnobsFile From(RecoveryController controller)
    {
        ArgumentNullException.ThrowIfNull(controller);
        var k = controller.Current;
        bool safe = controller.SafeModeLevel > 0, attention = safe || controller.AttentionCritical;
        return new KnobsFile
        {
            LearningRate = safe ? k.LearningRate : null,
            ClipThreshold = safe ? k.ClipThreshold : null,
            GuidedAttentionWeight = attention ? k.GuidedAttentionWeight : null,
            GuidedAttentionEnabled = attention ? true : null,
            MixedPrecision = safe ? false : null,
            Mmi = safe ? false : null,
            SafeModeLevel = controller.SafeModeLevel,
            Mode = controller.Mode,
        };
    }

    /// <summary>True when both set the same knobs (the version aside).</summary>
    public bool SameKnobs(KnobsFile? other) => other is not null && this with { Version = 0 } == other with { Version = 0 };

    /// <summary>The file, or null when it is missing or unreadable (a half-written file cannot occur: it is replaced atomically).</summary>
    public static KnobsFile? TryRead(string file)
    {
        try { return File.Exists(file) ? JsonSerializer.Deserialize<KnobsFile>(File.ReadAllBytes(file), RunJson.Options) : null; }
        catch (JsonException) { return null; }
        catch (IOException) { return null; }
    }

    /// <summary>Writes <paramref name="knobs"/> atomically with the version after the file's current one; returns what was written.</summary>
    public static KnobsFile Write(string file, KnobsFile knobs)
    {
        ArgumentNullException.ThrowIfNull(knobs);
        var written = knobs with { Version = (TryRead(file)?.Version ?? 0) + 1 };
        AtomicFile.WriteAllText(file, JsonSerializer.Serialize(written, RunJson.Options) + "\n");
        return written;
    }
}
