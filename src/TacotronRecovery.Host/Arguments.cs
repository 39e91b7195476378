namespace TacotronRecovery.Host;

/// <summary>A usage error: exit code 2 with the message.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Minimal <c>--key value</c> / <c>--flag</c> parser for the engine verbs.</summary>
public sealed class Arguments
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    /// <summary>Parses everything after the verb.</summary>
    public Arguments(IEnumerable<string> args, params string[] flags)
    {
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            var a = list[i];
            if (!a.StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"Unexpected argument '{a}'.");
            var key = a[2..];
            if (flags.Contains(key)) { _values[key] = null; continue; }
            if (i + 1 >= list.Count) throw new UsageException($"Option --{key} needs a value.");
            _values[key] = list[++i];
        }
    }

    /// <summary>The value of --key, or null.</summary>
    public string? Get(string key) { _read.Add(key); return _values.TryGetValue(key, out var v) ? v : null; }

    /// <summary>True when --key was given.</summary>
    public bool Has(string key) { _read.Add(key); return _values.ContainsKey(key); }

    /// <summary>An integer option.</summary>
    public int? Int(string key)
    {
        var v = Get(key);
        if (v is null) return null;
        return int.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n)
            ? n : throw new UsageException($"Option --{key} expects a whole number, got '{v}'.");
    }

    /// <summary>Fails on options no verb read (typos).</summary>
    public void RejectUnknown()
    {
        var unknown = _values.Keys.Where(k => !_read.Contains(k)).ToList();
        if (unknown.Count > 0) throw new UsageException($"Unknown option(s): {string.Join(", ", unknown.Select(k => "--" + k))}.");
    }

    /// <summary>Re-creates the argument list (for the supervisor's child).</summary>
    public IEnumerable<string> Raw()
    {
        foreach (var (k, v) in _values)
        {
            yield return "--" + k;
            if (v is not null) yield return v;
        }
    }
}
