using System.Globalization;
using System.Reflection;
using TacotronRecovery.Core.Metrics;

namespace TacotronRecovery.Core.Health;

/// <summary>
/// Turns loosely typed property bags (objects from Import-Csv, ConvertFrom-Json, Select-Object) into
/// <see cref="StepMetrics"/> or <see cref="AlignmentMetrics"/>. Names match case-insensitively and ignore underscores,
/// so both <c>MelLoss</c> and <c>mel_loss</c> bind. Strings are parsed with the invariant culture; "NaN",
/// "Infinity" and "-Infinity" are kept as non-finite values. Unknown properties are ignored.
/// </summary>
public static class MetricRecordMapper
{
    private static readonly Dictionary<string, PropertyInfo> StepProps = Index<StepMetrics>();
    private static readonly Dictionary<string, PropertyInfo> AlignProps = Index<AlignmentMetrics>();

    /// <summary>
    /// Maps one property bag. A bag with a <c>Diagonality</c> property is an alignment record; one with a
    /// <c>Step</c> and any of <c>Loss</c>, <c>MelLoss</c>, <c>GradNorm</c> is a step record.
    /// </summary>
    /// <param name="properties">Property names and values.</param>
    /// <returns>The record (<see cref="StepMetrics"/> or <see cref="AlignmentMetrics"/>).</returns>
    /// <exception cref="FormatException">Neither kind, or a value that does not convert (the message names the property and value).</exception>
    public static object Map(IEnumerable<KeyValuePair<string, object?>> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        var bag = new Dictionary<string, (string Name, object? Value)>(StringComparer.Ordinal);
        foreach (var (name, value) in properties) bag[Normalise(name)] = (name, value);

        if (bag.ContainsKey("diagonality")) return Fill(new AlignmentMetrics(), AlignProps, bag);
        if (bag.ContainsKey("step") && (bag.ContainsKey("loss") || bag.ContainsKey("melloss") || bag.ContainsKey("gradnorm")))
            return Fill(new StepMetrics(), StepProps, bag);
        throw new FormatException($"The object is neither a step record (Step plus Loss, MelLoss or GradNorm) nor an alignment record (Diagonality); its properties: {string.Join(", ", bag.Values.Select(v => v.Name))}.");
    }

    private static T Fill<T>(T target, Dictionary<string, PropertyInfo> props, Dictionary<string, (string Name, object? Value)> bag)
    {
        foreach (var (key, prop) in props)
        {
            if (!bag.TryGetValue(key, out var entry)) continue;
            prop.SetValue(target, Convert(entry.Name, entry.Value, prop.PropertyType));
        }
        return target;
    }

    private static object? Convert(string name, object? value, Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        bool nullable = underlying is not null || !type.IsValueType;
        var t = underlying ?? type;
        if (value is null || value is string { Length: 0 })
        {
            if (nullable) return null;
            throw new FormatException($"Property '{name}' is empty; a {t.Name} is required.");
        }
        try
        {
            if (t == typeof(string)) return System.Convert.ToString(value, CultureInfo.InvariantCulture);
            if (t == typeof(double))
            {
                return value switch
                {
                    string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
                    string s => throw new FormatException($"Property '{name}' value '{s}' is not a number."),
                    _ => System.Convert.ToDouble(value, CultureInfo.InvariantCulture),
                };
            }
            if (t == typeof(int))
            {
                double d = value is string s
                    ? double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var p) ? p : throw new FormatException($"Property '{name}' value '{s}' is not a whole number.")
                    : System.Convert.ToDouble(value, CultureInfo.InvariantCulture);
                if (!double.IsFinite(d) || d != Math.Floor(d) || d < int.MinValue || d > int.MaxValue)
                    throw new FormatException($"Property '{name}' value '{value}' is not a whole number.");
                return (int)d;
            }
            if (t == typeof(bool))
            {
                return value switch
                {
                    bool b => b,
                    string s when bool.TryParse(s.Trim(), out var b) => b,
                    string s when s.Trim() is "0" or "1" => s.Trim() == "1",
                    string s => throw new FormatException($"Property '{name}' value '{s}' is not true or false."),
                    _ => System.Convert.ToDouble(value, CultureInfo.InvariantCulture) != 0,
                };
            }
            if (t == typeof(DateTimeOffset))
            {
                return value switch
                {
                    DateTimeOffset o => o,
                    DateTime dt => new DateTimeOffset(dt.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(dt, DateTimeKind.Utc) : dt),
                    string s when DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var o) => o,
                    string s when DateTimeOffset.TryParse(s, CultureInfo.CurrentCulture, DateTimeStyles.AssumeUniversal, out var o) => o,
                    _ => throw new FormatException($"Property '{name}' value '{value}' is not a date and time."),
                };
            }
        }
        catch (Exception e) when (e is InvalidCastException or OverflowException)
        {
            throw new FormatException($"Property '{name}' value '{value}' cannot be read as {t.Name}.", e);
        }
        throw new FormatException($"Property '{name}' has an unsupported type {t.Name}.");
    }

    private static Dictionary<string, PropertyInfo> Index<T>() =>
        typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.PropertyType != typeof(System.Text.Json.Nodes.JsonObject))
            .ToDictionary(p => Normalise(p.Name), StringComparer.Ordinal);

    private static string Normalise(string name) => name.Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();
}
