namespace TacotronRecovery.Core.Config;

/// <summary>
/// A configuration file that cannot be used. The message always starts with the location:
/// <c>voice.yaml:12:5: training.lerning_rate: unknown key (did you mean learning_rate?)</c>.
/// </summary>
public sealed class ConfigException : Exception
{
    /// <summary>Creates the exception; the message is composed from the location, key path and problem.</summary>
    public ConfigException(string? path, int line, int column, string keyPath, string problem, string errorId = "ConfigInvalid")
        : base(Compose(path, line, column, keyPath, problem))
    {
        Path = path;
        Line = line;
        Column = column;
        KeyPath = keyPath;
        Problem = problem;
        ErrorId = errorId;
    }

    /// <summary>The config file (as given), or null for a config built in code.</summary>
    public string? Path { get; }
    /// <summary>1-based line of the offending key or value; 0 when unknown (a default that fails validation).</summary>
    public int Line { get; }
    /// <summary>1-based column; 0 when unknown.</summary>
    public int Column { get; }
    /// <summary>Dotted key path, e.g. <c>training.batch_size</c>; empty for file-level problems.</summary>
    public string KeyPath { get; }
    /// <summary>The problem without the location prefix.</summary>
    public string Problem { get; }
    /// <summary>Stable error id for PowerShell: <c>ConfigInvalid</c>, or <c>ConfigNotFound</c> for a missing file.</summary>
    public string ErrorId { get; }

    private static string Compose(string? path, int line, int column, string keyPath, string problem)
    {
        var location = System.IO.Path.GetFileName(path ?? "config");
        if (line > 0) location += $":{line}:{column}";
        return keyPath.Length > 0 ? $"{location}: {keyPath}: {problem}" : $"{location}: {problem}";
    }
}
