using System.Globalization;
using System.Text;
using System.Text.Json;
using YamlDotNet.Serialization.NamingConventions;

namespace TacotronRecovery.Core.Config;

/// <summary>
/// Writes the effective config as YAML (the run's <c>config.yaml</c> copy) with every secret replaced by
/// <see cref="RedactedValue"/>. The output loads again with <see cref="ConfigLoader"/> and gives the same config
/// except the secrets; a redacted <c>bot_token</c> counts as unset, so the token then comes from
/// <c>TACOTRON_TELEGRAM_TOKEN</c> or a SecureString.
/// </summary>
public static class ConfigWriter
{
    /// <summary>What a secret is replaced with.</summary>
    public const string RedactedValue = "***";

    /// <summary>Writes the redacted YAML atomically (temporary file, then rename) to <paramref name="path"/>.</summary>
    public static void WriteRedacted(TacotronConfig config, string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp";
        File.WriteAllText(temp, ToRedactedYaml(config), new UTF8Encoding(false));
        File.Move(temp, full, overwrite: true);
    }

    /// <summary>The redacted YAML text.</summary>
    public static string ToRedactedYaml(TacotronConfig config)
    {
        var redacted = config with { Telegram = config.Telegram with { BotToken = string.IsNullOrEmpty(config.Telegram.BotToken) ? null : RedactedValue } };
        var sb = new StringBuilder();
        sb.Append("# Effective configuration of this run (written by TacotronRecovery; secrets redacted).\n");
        WriteObject(sb, redacted, 0);
        return sb.ToString();
    }

    private static void WriteObject(StringBuilder sb, object value, int indent)
    {
        foreach (var property in ConfigLoader.PropertiesOf(value.GetType()))
        {
            var key = ConfigLoader.KeyOf(property);
            var v = property.GetValue(value);
            sb.Append(' ', indent).Append(key).Append(':');
            if (v is not null && ConfigLoader.IsSection(property.PropertyType))
            {
                sb.Append('\n');
                WriteObject(sb, v, indent + 2);
                continue;
            }
            sb.Append(' ').Append(Scalar(v)).Append('\n');
        }
    }

    private static string Scalar(object? v) => v switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        int i => i.ToString(CultureInfo.InvariantCulture),
        double d => Number(d),
        Enum e => UnderscoredNamingConvention.Instance.Apply(e.ToString()),
        string s => JsonSerializer.Serialize(EnvironmentExpansion.Escape(s)), // a JSON string is a valid YAML double-quoted scalar
        _ => throw new InvalidOperationException($"Cannot write {v.GetType()} as YAML."),
    };

    private static string Number(double d)
    {
        var s = d.ToString("R", CultureInfo.InvariantCulture);
        return s.Contains('.') || s.Contains('E') || s.Contains('e') ? s : s + ".0";
    }
}
