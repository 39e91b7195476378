using System.Security.Cryptography;
using System.Text;

namespace TacotronRecovery.Core.Checkpoints;

/// <summary>
/// Fingerprint of the effective config a checkpoint was trained with: lowercase hex SHA-256 of the config text as
/// UTF-8 after normalising line endings to '\n' and dropping trailing whitespace at line ends and at the end of the
/// text, so the same config hashes the same on Windows and Linux.
/// </summary>
public static class ConfigHash
{
    /// <summary>Hash of <paramref name="configText"/>.</summary>
    public static string Compute(string configText)
    {
        ArgumentNullException.ThrowIfNull(configText);
        var lines = configText.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n').Select(l => l.TrimEnd());
        var normalised = string.Join('\n', lines).TrimEnd('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalised)));
    }

    /// <summary>Hash of the config file <paramref name="path"/>.</summary>
    public static string ComputeFile(string path) => Compute(File.ReadAllText(path));
}
