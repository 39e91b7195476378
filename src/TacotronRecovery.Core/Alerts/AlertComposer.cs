using System.Collections;
using System.Globalization;

namespace TacotronRecovery.Core.Alerts;

/// <summary>
/// Builds an <see cref="Alert"/> from any object by duck typing on well-known property names, so Send-TrainingAlert
/// renders objects of other parts of the module (and users' own objects) sensibly:
/// <list type="bullet">
/// <item><c>Status</c> + <c>Findings</c> (a health report): kind from the status (Critical/Failed/Unhealthy → Critical,
/// Warning/Degraded → Warning, else Info); one line per finding; <c>Recommendations</c>;</item>
/// <item><c>Outcome</c> + <c>Steps</c> (a recovery result): Success/Recovered/Completed → Success, Failed/Exhausted →
/// Critical, else RecoveryStarted; one line per step;</item>
/// <item><c>Step</c> + <c>Loss</c> (step metrics): Progress, one line per numeric property;</item>
/// <item>anything else: Info with a <c>Name: value</c> line per property (at most <see cref="MaxGenericLines"/>);
/// a string or number is the message itself.</item>
/// </list>
/// <c>Run</c>, <c>Step</c> and <c>Recommendations</c> are taken from any object that has them.
/// </summary>
public static class AlertComposer
{
    /// <summary>Most property lines of a generic object.</summary>
    public const int MaxGenericLines = 30;

    /// <summary>Property names tried, in order, to describe a nested object in one line.</summary>
    private static readonly string[] DescribeNames = { "Message", "Description", "Summary", "Title", "Text", "Action", "Name" };

    /// <summary>
    /// An alert for <paramref name="input"/>. <paramref name="propertiesOf"/> lists an object's properties (null for
    /// scalars); <paramref name="title"/> (e.g. -Message) replaces the derived title; <paramref name="severity"/>
    /// replaces the derived kind.
    /// </summary>
    public static Alert Compose(object input, Func<object, IReadOnlyList<KeyValuePair<string, object?>>?> propertiesOf,
        string? title = null, AlertKind? severity = null, string? run = null, int? step = null)
    {
        var props = IsScalar(input) ? null : propertiesOf(input);
        if (props is null)
        {
            var text = Text(input, propertiesOf);
            return new Alert { Kind = severity ?? AlertKind.Info, Title = title ?? text, Lines = title is null ? Array.Empty<string>() : new[] { text }, Run = run, Step = step };
        }
        object? Get(string name) => props.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
        bool Has(string name) => props.Any(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase));

        AlertKind kind;
        string derivedTitle;
        var lines = new List<string>();
        if (Has("Status") && Has("Findings"))
        {
            var status = Text(Get("Status"), propertiesOf);
            kind = status.ToLowerInvariant() switch
            {
                "critical" or "failed" or "unhealthy" or "error" => AlertKind.Critical,
                "warning" or "degraded" => AlertKind.Warning,
                _ => AlertKind.Info,
            };
            derivedTitle = $"Health: {status}";
            lines.AddRange(Items(Get("Findings"), propertiesOf));
            if (lines.Count == 0) lines.Add("no findings");
        }
        else if (Has("Outcome") && Has("Steps"))
        {
            var outcome = Text(Get("Outcome"), propertiesOf);
            var o = outcome.ToLowerInvariant();
            kind = o.Contains("success") || o.Contains("recovered") || o.Contains("completed") ? AlertKind.Success
                : o.Contains("fail") || o.Contains("exhausted") ? AlertKind.Critical
                : AlertKind.RecoveryStarted;
            derivedTitle = $"Recovery: {outcome}";
            lines.AddRange(Items(Get("Steps"), propertiesOf));
        }
        else if (Has("Step") && Has("Loss"))
        {
            kind = AlertKind.Progress;
            derivedTitle = $"Step {Text(Get("Step"), propertiesOf)}";
            foreach (var (name, value) in props)
                if (value is not null && IsNumber(value) && !name.Equals("Step", StringComparison.OrdinalIgnoreCase))
                    lines.Add($"{name} {Text(value, propertiesOf)}");
        }
        else
        {
            kind = AlertKind.Info;
            derivedTitle = input.GetType().Name is { } typeName && typeName != "PSCustomObject" && typeName != "PSObject" && typeName != "Hashtable" ? typeName : "Details";
            foreach (var (name, value) in props.Take(MaxGenericLines)) lines.Add($"{name}: {Text(value, propertiesOf)}");
            if (props.Count > MaxGenericLines) lines.Add($"… {props.Count - MaxGenericLines} more properties");
        }
        if (title is not null && title != derivedTitle) lines.Insert(0, derivedTitle);
        return new Alert
        {
            Kind = severity ?? kind,
            Title = title ?? derivedTitle,
            Lines = lines,
            Recommendations = Has("Recommendations") ? Items(Get("Recommendations"), propertiesOf).ToArray() : Array.Empty<string>(),
            Run = run ?? (Has("Run") ? NullIfEmpty(Text(Get("Run"), propertiesOf)) : null),
            Step = step ?? (Has("Step") && Get("Step") is { } s && IsNumber(s) ? Convert.ToInt32(s, CultureInfo.InvariantCulture) : null),
        };
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    private static IEnumerable<string> Items(object? value, Func<object, IReadOnlyList<KeyValuePair<string, object?>>?> propertiesOf)
    {
        if (value is null) yield break;
        if (value is string s) { yield return s; yield break; }
        if (value is IEnumerable e)
        {
            foreach (var item in e) if (item is not null) yield return Text(item, propertiesOf);
            yield break;
        }
        yield return Text(value, propertiesOf);
    }

    /// <summary>One line for a value: numbers with 4 significant digits, lists joined, objects by their best-describing property.</summary>
    public static string Text(object? value, Func<object, IReadOnlyList<KeyValuePair<string, object?>>?> propertiesOf)
    {
        switch (value)
        {
            case null: return "";
            case string s: return s;
            case double d: return d.ToString("G4", CultureInfo.InvariantCulture);
            case float f: return f.ToString("G4", CultureInfo.InvariantCulture);
            case DateTime dt: return dt.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
            case DateTimeOffset dto: return dto.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
            case TimeSpan ts: return ts.ToString("c", CultureInfo.InvariantCulture);
            case IFormattable fmt when IsScalar(value): return fmt.ToString(null, CultureInfo.InvariantCulture);
            case IEnumerable e when value is not IDictionary: return string.Join(", ", e.Cast<object?>().Take(20).Select(x => Text(x, propertiesOf)));
        }
        if (IsScalar(value)) return Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
        var props = propertiesOf(value);
        if (props is null || props.Count == 0) return Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
        foreach (var name in DescribeNames)
        {
            var hit = props.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase));
            if (hit.Key is not null && hit.Value is not null)
            {
                var severity = props.FirstOrDefault(p => string.Equals(p.Key, "Severity", StringComparison.OrdinalIgnoreCase)).Value;
                var text = Text(hit.Value, propertiesOf);
                return severity is null ? text : $"[{Text(severity, propertiesOf)}] {text}";
            }
        }
        return string.Join(", ", props.Take(6).Select(p => $"{p.Key}={Text(p.Value, propertiesOf)}"));
    }

    private static bool IsNumber(object v) => v is byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal;

    private static bool IsScalar(object v) => v is string || v.GetType().IsPrimitive || v is decimal || v is Enum || v is DateTime || v is DateTimeOffset || v is TimeSpan || v is Guid;
}
