using System.Globalization;
using System.Reflection;
using YamlDotNet.Serialization.NamingConventions;

namespace TacotronRecovery.Core.Config;

/// <summary>
/// Loads one YAML config file into a <see cref="TacotronConfig"/>, strictly:
/// <list type="bullet">
/// <item>keys are the snake_case of the property names (YamlDotNet's <see cref="UnderscoredNamingConvention"/>):
/// <c>guided_attention.max_multiplier</c> → <see cref="GuidedAttentionOptions.MaxMultiplier"/>;</item>
/// <item>an unknown key, a value of the wrong type, a duplicate key or malformed YAML is a <see cref="ConfigException"/>
/// whose message starts with <c>file:line:column: key.path:</c> (and suggests the closest known key);</item>
/// <item><c>${NAME}</c> and <c>${NAME:-default}</c> are expanded in every scalar value after parsing
/// (<see cref="EnvironmentExpansion"/>); an unset variable without a default is an error naming key and variable;</item>
/// <item><c>model.preset</c> picks <see cref="ModelOptions.ForPreset"/> as the starting point, the other <c>model</c>
/// keys override it, wherever <c>preset</c> appears in the section;</item>
/// <item>relative <c>data.path</c>, <c>data.train_filelist</c>, <c>data.validation_filelist</c> and
/// <c>data.mel_cache_path</c> are resolved against the config file's folder;</item>
/// <item>the result is validated by <see cref="ConfigValidator"/> (ranges and names, each error naming the key).</item>
/// </list>
/// Cmdlet parameters override a loaded config with <c>with</c> expressions, then re-validate:
/// <code>config = ConfigValidator.Validated(config with { Training = config.Training with { MaxSteps = 10 } });</code>
/// </summary>
public static class ConfigLoader
{
    /// <summary>Largest config file read (1 MiB; a full config with comments is about 10 KiB).</summary>
    public const long MaxFileBytes = 1 << 20;

    /// <summary>Loads and validates <paramref name="path"/>. <paramref name="environment"/> defaults to the process environment.</summary>
    /// <exception cref="ConfigException">The file is missing (ErrorId ConfigNotFound) or invalid (ConfigInvalid).</exception>
    public static TacotronConfig Load(string path, Func<string, string?>? environment = null)
    {
        string text;
        try
        {
            var length = new FileInfo(path).Length;
            if (length > MaxFileBytes)
                throw new ConfigException(path, 0, 0, "", $"the file is {length:N0} bytes; a config file is at most {MaxFileBytes:N0} (is this the right file?)");
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ConfigException(path, 0, 0, "", $"config file not found: {Path.GetFullPath(path)}", "ConfigNotFound");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(path, 0, 0, "", $"cannot read the config file: {e.Message}", "ConfigNotFound");
        }
        return Parse(text, path, environment, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>Defaults when <paramref name="path"/> is null or empty, else <see cref="Load"/>.</summary>
    public static TacotronConfig LoadOrDefault(string? path, Func<string, string?>? environment = null) =>
        string.IsNullOrWhiteSpace(path) ? new TacotronConfig() : Load(path, environment);

    /// <summary>
    /// Parses YAML text. <paramref name="sourcePath"/> only names the source in errors; relative data paths are resolved
    /// against <paramref name="baseDirectory"/> when it is given.
    /// </summary>
    public static TacotronConfig Parse(string yaml, string sourcePath = "config.yaml", Func<string, string?>? environment = null, string? baseDirectory = null)
    {
        var binder = new Binder(sourcePath, environment ?? EnvironmentExpansion.ProcessEnvironment);
        var root = YamlTree.Parse(new StringReader(yaml), sourcePath);
        var config = new TacotronConfig();
        switch (root)
        {
            case null:
                break;
            case YScalar s when s.IsNull:
                break;
            case YMapping map:
                binder.BindObject(map, config, "");
                break;
            default:
                throw new ConfigException(sourcePath, root.Line, root.Column, "", "the file must be a mapping of sections (data, model, training, ...)");
        }
        if (baseDirectory is not null) config = config with { Data = ResolvePaths(config.Data, baseDirectory) };
        return ConfigValidator.Validated(config, sourcePath, binder.Locations);
    }

    /// <summary>The run name: <see cref="TacotronConfig.Name"/>, else the config file's base name, else <c>run</c>.</summary>
    public static string RunNameFor(TacotronConfig config, string? configPath) =>
        !string.IsNullOrWhiteSpace(config.Name) ? config.Name!
        : !string.IsNullOrWhiteSpace(configPath) ? Path.GetFileNameWithoutExtension(configPath)
        : "run";

    /// <summary>The YAML key of a property: its snake_case name (<c>NMelChannels</c> → <c>n_mel_channels</c>).</summary>
    public static string KeyOf(PropertyInfo property) => UnderscoredNamingConvention.Instance.Apply(property.Name);

    /// <summary>Bindable properties of an options type (public, readable, settable, not <see cref="NotAConfigKeyAttribute"/>), in declaration order.</summary>
    internal static PropertyInfo[] PropertiesOf(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanRead && p.CanWrite && p.GetIndexParameters().Length == 0 && p.GetCustomAttribute<NotAConfigKeyAttribute>() is null)
            .ToArray();

    /// <summary>True for the nested option records (sections), which bind from a mapping.</summary>
    internal static bool IsSection(Type type) => type.IsClass && type != typeof(string) && type.Namespace == typeof(TacotronConfig).Namespace;

    private static DataOptions ResolvePaths(DataOptions data, string baseDirectory)
    {
        static string? Resolve(string? p, string b) => string.IsNullOrWhiteSpace(p) || Path.IsPathRooted(p) ? p : Path.GetFullPath(Path.Combine(b, p));
        return data with
        {
            Path = Resolve(data.Path, baseDirectory),
            TrainFilelist = Resolve(data.TrainFilelist, baseDirectory),
            ValidationFilelist = Resolve(data.ValidationFilelist, baseDirectory),
            MelCachePath = Resolve(data.MelCachePath, baseDirectory),
        };
    }

    /// <summary>Keys that were merged into another (old key → the one to use), named in the error instead of "unknown key".</summary>
    internal static readonly IReadOnlyDictionary<string, string> MovedKeys = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["health.loss_spike_factor"] = "recovery.spike_factor",
        ["health.attention_warmup_steps"] = "recovery.attention_warmup_steps",
        ["health.collapse_diagonality"] = "recovery.critical_diagonality",
    };

    /// <summary>Older spellings an enum key still accepts: <c>training.mixed_precision: true/false</c> (once a flag) read as auto/off.</summary>
    internal static readonly IReadOnlyDictionary<Type, IReadOnlyDictionary<string, object>> EnumAliases = new Dictionary<Type, IReadOnlyDictionary<string, object>>
    {
        [typeof(MixedPrecisionMode)] = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase)
        {
            ["true"] = MixedPrecisionMode.Auto,
            ["false"] = MixedPrecisionMode.Off,
        },
    };

    private sealed class Binder(string path, Func<string, string?> environment)
    {
        private readonly NullabilityInfoContext _nullability = new();

        /// <summary>Key path → position of the key, for validation messages.</summary>
        public Dictionary<string, (int Line, int Column)> Locations { get; } = new(StringComparer.Ordinal);

        public void BindObject(YMapping map, object target, string keyPath)
        {
            var properties = PropertiesOf(target.GetType()).ToDictionary(KeyOf, StringComparer.Ordinal);
            foreach (var entry in map.Entries)
            {
                var childPath = keyPath.Length == 0 ? entry.Key : $"{keyPath}.{entry.Key}";
                if (!properties.TryGetValue(entry.Key, out var property))
                {
                    if (MovedKeys.TryGetValue(childPath, out var moved))
                        throw new ConfigException(path, entry.Line, entry.Column, childPath,
                            $"moved to {moved}: one threshold for Test-LossHealth and the recovery controller (docs/configuration.md)");
                    var suggestion = Suggest(entry.Key, properties.Keys);
                    throw new ConfigException(path, entry.Line, entry.Column, childPath,
                        suggestion is null ? $"unknown key (known keys: {string.Join(", ", properties.Keys)})" : $"unknown key (did you mean {suggestion}?)");
                }
                Locations[childPath] = (entry.Line, entry.Column);
                if (target is TacotronConfig config && property.Name == nameof(TacotronConfig.Model) && entry.Value is YMapping modelMap)
                {
                    // The preset is the starting point; every other key overrides it.
                    var presetEntry = modelMap.Entries.FirstOrDefault(e => e.Key == "preset");
                    if (presetEntry is not null)
                    {
                        var preset = ExpandScalar(presetEntry.Value, $"{childPath}.preset", typeof(string));
                        if (preset is null || !ModelOptions.Presets.Contains(preset.ToLowerInvariant()))
                            throw new ConfigException(path, presetEntry.Value.Line, presetEntry.Value.Column, $"{childPath}.preset",
                                $"unknown preset '{preset}' (expected {string.Join(", ", ModelOptions.Presets)})");
                        property.SetValue(config, ModelOptions.ForPreset(preset));
                    }
                }
                if (IsSection(property.PropertyType))
                {
                    if (entry.Value is YScalar { IsNull: true }) continue; // an empty section keeps its defaults
                    if (entry.Value is not YMapping child)
                        throw new ConfigException(path, entry.Value.Line, entry.Value.Column, childPath, $"expected a mapping (section), got {Describe(entry.Value)}");
                    var section = property.GetValue(target) ?? Activator.CreateInstance(property.PropertyType)!;
                    BindObject(child, section, childPath);
                    property.SetValue(target, section);
                    continue;
                }
                property.SetValue(target, Convert(entry.Value, property, childPath));
            }
        }

        private object? Convert(YNode node, PropertyInfo property, string keyPath)
        {
            var type = property.PropertyType;
            var underlying = Nullable.GetUnderlyingType(type);
            bool nullable = underlying is not null || (!type.IsValueType && _nullability.Create(property).WriteState == NullabilityState.Nullable);
            var target = underlying ?? type;
            if (node is not YScalar scalar)
                throw new ConfigException(path, node.Line, node.Column, keyPath, $"expected {TypeName(target)}, got {Describe(node)}");
            if (scalar.IsNull)
            {
                if (nullable) return null;
                throw new ConfigException(path, node.Line, node.Column, keyPath, $"expected {TypeName(target)}, got null (this key has no empty value; remove it to use the default)");
            }
            var text = ExpandScalar(scalar, keyPath, target)!;
            string Got() => $"got '{Shorten(text)}'";
            if (target == typeof(string)) return text;
            if (target == typeof(int))
            {
                if (int.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i)) return i;
                throw new ConfigException(path, node.Line, node.Column, keyPath, $"expected an integer, {Got()}");
            }
            if (target == typeof(double))
            {
                if (double.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)) return d;
                throw new ConfigException(path, node.Line, node.Column, keyPath, $"expected a finite number, {Got()}");
            }
            if (target == typeof(bool))
            {
                if (text.Equals("true", StringComparison.OrdinalIgnoreCase)) return true;
                if (text.Equals("false", StringComparison.OrdinalIgnoreCase)) return false;
                throw new ConfigException(path, node.Line, node.Column, keyPath, $"expected true or false, {Got()}");
            }
            if (target.IsEnum)
            {
                if (EnumAliases.TryGetValue(target, out var aliases) && aliases.TryGetValue(text, out var alias)) return alias;
                foreach (var name in Enum.GetNames(target))
                    if (name.Equals(text, StringComparison.OrdinalIgnoreCase) || UnderscoredNamingConvention.Instance.Apply(name).Equals(text, StringComparison.OrdinalIgnoreCase))
                        return Enum.Parse(target, name);
                var names = Enum.GetNames(target).Select(n => UnderscoredNamingConvention.Instance.Apply(n));
                var also = aliases is null ? "" : $" ({string.Join(", ", aliases.Select(a => $"{a.Key} reads as {UnderscoredNamingConvention.Instance.Apply(a.Value.ToString()!)}"))})";
                throw new ConfigException(path, node.Line, node.Column, keyPath, $"expected one of {string.Join(", ", names)}{also}, {Got()}");
            }
            throw new InvalidOperationException($"{keyPath}: property type {type} is not bindable.");
        }

        private string? ExpandScalar(YNode node, string keyPath, Type target)
        {
            if (node is not YScalar scalar)
                throw new ConfigException(path, node.Line, node.Column, keyPath, $"expected {TypeName(target)}, got {Describe(node)}");
            if (EnvironmentExpansion.TryExpand(scalar.Value, environment, out var expanded, out var missing)) return expanded;
            throw new ConfigException(path, node.Line, node.Column, keyPath, missing is not null
                ? $"environment variable {missing} is not set (set it, or write ${{{missing}:-default}})"
                : expanded);
        }

        private static string TypeName(Type t) =>
            t == typeof(int) ? "an integer" : t == typeof(double) ? "a number" : t == typeof(bool) ? "true or false" : t == typeof(string) ? "a string" : t.IsEnum ? "a name" : "a value";

        private static string Describe(YNode node) => node switch
        {
            YMapping => "a mapping",
            YSequence => "a list",
            YScalar s when s.IsNull => "null",
            YScalar s => $"'{Shorten(s.Value)}'",
            _ => "something else",
        };

        private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";
    }

    /// <summary>The known key closest to <paramref name="key"/> (edit distance ≤ max(2, length/3)), or null.</summary>
    internal static string? Suggest(string key, IEnumerable<string> known)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var k in known)
        {
            int d = EditDistance.Between(key.ToLowerInvariant(), k);
            if (d < bestDistance) { best = k; bestDistance = d; }
        }
        return bestDistance <= Math.Max(2, key.Length / 3) ? best : null;
    }
}
