namespace TacotronRecovery.Core.Config;

/// <summary>
/// Marks an options property that is recorded (in checkpoint metadata) but is not a YAML key: the config loader refuses
/// it as unknown and the config writer leaves it out. Its value is derived from another key by the engine.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class NotAConfigKeyAttribute : Attribute;
