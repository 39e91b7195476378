using System.Text.Json;
using System.Text.Json.Serialization;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Recovery;

/// <summary>
/// <c>knobs.json</c>: the recovery controller's <see cref="Knobs"/> as an external command's ranks take them (the
/// adapter re-reads the file whenever it changes). A null number means "the script's own value": at safe-mode level 0
/// the learning rate and clip threshold are the script's, and the guided-attention weight is the script's outside safe
/// mode and attention critical mode. <see cref="Version"/> grows with every write.
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
    /// <summary>Guided attention on (forced on in safe mode and attention critical mode).</summary>
    public bool GuidedAttentionEnabled { get; init; }
    /// <summary>Mixed precision allowed (off in safe mode; else the config's training.mixed_precision).</summary>
    public bool MixedPrecision { get; init; }
    /// <summary>MMI loss allowed (off in safe mode; else the config's training.mmi).</summary>
    public bool Mmi { get; init; }
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
        bool safe = controller.SafeModeLevel > 0;
        return new KnobsFile
        {
            LearningRate = safe ? k.LearningRate : null,
            ClipThreshold = safe ? k.ClipThreshold : null,
            GuidedAttentionWeight = safe || controller.AttentionCritical ? k.GuidedAttentionWeight : null,
            GuidedAttentionEnabled = k.GuidedAttentionEnabled,
            MixedPrecision = k.MixedPrecision,
            Mmi = k.Mmi,
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
