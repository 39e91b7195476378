namespace TacotronRecovery.Core.Recovery;

/// <summary>
/// The training knobs the recovery controller owns; the trainer applies exactly these at the next step and sets
/// them nowhere else, so no two mechanisms fight over a knob.
/// </summary>
/// <param name="LearningRate">Learning rate: the scheduled rate × 0.5^level in safe mode (floored).</param>
/// <param name="ClipThreshold">Gradient clipping threshold: the base × 0.5^level in safe mode (floored).</param>
/// <param name="MixedPrecision">Mixed precision; off in safe mode.</param>
/// <param name="Mmi">Maximum-mutual-information auxiliary loss; off in safe mode.</param>
/// <param name="GuidedAttentionEnabled">Guided attention loss on; forced on in safe mode and attention critical mode.</param>
/// <param name="GuidedAttentionWeight">Weight of the guided attention loss (raised in attention critical mode).</param>
/// <param name="BatchSize">Utterances per batch (halved only on out-of-memory).</param>
public sealed record Knobs(
    double LearningRate,
    double ClipThreshold,
    bool MixedPrecision,
    bool Mmi,
    bool GuidedAttentionEnabled,
    double GuidedAttentionWeight,
    int BatchSize)
{
    /// <summary>A compact, culture-invariant description, e.g. <c>lr=0.0005 clip=0.5 mp=off mmi=off ga=on×1 batch=16</c>.</summary>
    public override string ToString() => FormattableString.Invariant(
        $"lr={LearningRate:G4} clip={ClipThreshold:G4} mp={(MixedPrecision ? "on" : "off")} mmi={(Mmi ? "on" : "off")} ga={(GuidedAttentionEnabled ? "on" : "off")}×{GuidedAttentionWeight:G4} batch={BatchSize}");
}
