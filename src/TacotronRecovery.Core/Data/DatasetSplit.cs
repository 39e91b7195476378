using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace TacotronRecovery.Core.Data;

/// <summary>
/// Deterministic train/validation split. When the dataset folder has a <c>validation.txt</c> (one utterance id per
/// line; blank lines and lines starting with '#' ignored; a line may also be a <c>path|text</c> row or a WAV path),
/// exactly those ids are validation. Otherwise an id is validation when the first 8 bytes of SHA-256(UTF-8 id),
/// read as a big-endian fraction of 2^64, are below the validation fraction: the same id always lands on the same
/// side, on every machine, and adding rows never moves existing ones.
/// </summary>
public sealed class DatasetSplit
{
    /// <summary>The validation id list file name, next to metadata.csv.</summary>
    public const string ValidationListFileName = "validation.txt";

    private readonly IReadOnlySet<string>? _validationIds;
    private readonly double _fraction;

    /// <summary>Creates a split from an id list (when not null) or a hash fraction.</summary>
    /// <param name="validationIds">Validation ids, or null to split by hash.</param>
    /// <param name="fraction">Share of ids held out when splitting by hash (0..1).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fraction"/> is outside 0..1.</exception>
    public DatasetSplit(IReadOnlySet<string>? validationIds, double fraction)
    {
        if (!(fraction >= 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The validation fraction must be between 0 and 1.");
        _validationIds = validationIds;
        _fraction = fraction;
    }

    /// <summary>How this split decides: <c>validation.txt (N ids)</c> or <c>hash 5%</c>.</summary>
    public string Method => _validationIds is not null
        ? $"{ValidationListFileName} ({_validationIds.Count} ids)"
        : $"hash {(_fraction * 100).ToString("0.##", CultureInfo.InvariantCulture)}%";

    /// <summary>True when <paramref name="id"/> belongs to the validation part.</summary>
    public bool IsValidation(string id) => _validationIds?.Contains(id) ?? HashSelects(id, _fraction);

    /// <summary>The hash rule alone: true when the id's SHA-256 fraction is below <paramref name="fraction"/>.</summary>
    public static bool HashSelects(string id, double fraction)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(id), hash);
        double u = BinaryPrimitives.ReadUInt64BigEndian(hash) / 18446744073709551616.0;
        return u < fraction;
    }

    /// <summary>
    /// The split for a listing: <c>validation.txt</c> in an LJSpeech folder when present, else the hash rule.
    /// </summary>
    public static DatasetSplit For(DatasetListing listing, double fraction)
    {
        bool ljspeech = string.Equals(Path.GetFileName(listing.Source), DatasetReader.MetadataFileName, StringComparison.OrdinalIgnoreCase);
        var list = Path.Combine(listing.Root, ValidationListFileName);
        return new DatasetSplit(ljspeech && File.Exists(list) ? ReadIdList(list) : null, fraction);
    }

    /// <summary>Reads an id list (see the type description).</summary>
    public static IReadOnlySet<string> ReadIdList(string path)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var first = line.Split('|')[0].Trim();
            ids.Add(first.EndsWith(".wav", StringComparison.OrdinalIgnoreCase) || first.Contains('/') || first.Contains('\\')
                ? Path.GetFileNameWithoutExtension(first)
                : first);
        }
        return ids;
    }
}
