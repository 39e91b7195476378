using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using TacotronRecovery.Core.Audio;
using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Core.Data;

/// <summary>
/// Mel spectrograms on disk, keyed by content: <c>&lt;folder&gt;/&lt;parameter hash&gt;/&lt;sha256 of the WAV bytes&gt;.mel</c>.
/// The parameter hash covers every feature parameter (sample rate, FFT size, hop, window, mel bands, fmin, fmax)
/// and a format version, so a changed file or parameter never reads a stale mel. Files are written to a temporary
/// name and renamed into place, so a crash never leaves a half-written entry under the real name; a file that is
/// damaged anyway (wrong magic, size or checksum) counts as a miss and is recomputed and rewritten.
/// Safe to use from several threads.
/// </summary>
public sealed class MelCache
{
    /// <summary>Bump when the mel computation or file format changes: all old entries become misses.</summary>
    public const string FormatVersion = "mel-v1";

    private static readonly byte[] Magic = "TRMEL01\0"u8.ToArray();
    private const int HeaderBytes = 16;
    private const int ChecksumBytes = 32;

    private int _hits;
    private int _misses;
    private int _corrupt;

    /// <summary>Creates a cache under <paramref name="folder"/> for the feature parameters of <paramref name="options"/>.</summary>
    public MelCache(string folder, DataOptions options)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ParameterHash = ParameterHashOf(options);
        Folder = System.IO.Path.Combine(System.IO.Path.GetFullPath(folder), ParameterHash);
    }

    /// <summary>The folder the entries of this parameter set live in.</summary>
    public string Folder { get; }

    /// <summary>16 hex digits of SHA-256 over the feature parameters and <see cref="FormatVersion"/>.</summary>
    public string ParameterHash { get; }

    /// <summary>Reads served from disk.</summary>
    public int Hits => Volatile.Read(ref _hits);

    /// <summary>Reads that had to compute (no entry, or a damaged one).</summary>
    public int Misses => Volatile.Read(ref _misses);

    /// <summary>Damaged entries found (each also counts as a miss).</summary>
    public int CorruptEntries => Volatile.Read(ref _corrupt);

    /// <summary>The parameter hash of <paramref name="o"/> (see <see cref="ParameterHash"/>).</summary>
    public static string ParameterHashOf(DataOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        var key = string.Join('|', FormatVersion, o.SampleRate, o.FilterLength, o.HopLength, o.WinLength, o.NMelChannels,
            o.MelFmin.ToString("R", CultureInfo.InvariantCulture), o.MelFmax.ToString("R", CultureInfo.InvariantCulture));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
    }

    /// <summary>Lower-case hex SHA-256 of file bytes.</summary>
    public static string ContentHash(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>The entry file of a content hash.</summary>
    public string PathFor(string contentHash) => System.IO.Path.Combine(Folder, contentHash + ".mel");

    /// <summary>
    /// The mel of the WAV at <paramref name="wavPath"/>: from the cache when its bytes and the parameters match an
    /// intact entry, else from <paramref name="compute"/> (then stored).
    /// </summary>
    public Mel GetOrCompute(string wavPath, Func<Mel> compute)
    {
        ArgumentNullException.ThrowIfNull(compute);
        var hash = ContentHash(File.ReadAllBytes(wavPath));
        if (TryRead(hash, out var mel))
        {
            Interlocked.Increment(ref _hits);
            return mel;
        }
        Interlocked.Increment(ref _misses);
        mel = compute();
        Write(hash, mel);
        return mel;
    }

    /// <summary>Reads an entry; false when it is absent or damaged (a damaged entry is counted in <see cref="CorruptEntries"/>).</summary>
    public bool TryRead(string contentHash, out Mel mel)
    {
        mel = null!;
        var path = PathFor(contentHash);
        byte[] bytes;
        try
        {
            if (!File.Exists(path)) return false;
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        if (!TryDecode(bytes, out mel))
        {
            Interlocked.Increment(ref _corrupt);
            return false;
        }
        return true;
    }

    /// <summary>Stores an entry atomically (temporary file + rename). IO failures are swallowed: the cache is an optimisation.</summary>
    /// <returns>True when the entry was written.</returns>
    public bool Write(string contentHash, Mel mel)
    {
        ArgumentNullException.ThrowIfNull(mel);
        var path = PathFor(contentHash);
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Folder);
            File.WriteAllBytes(temp, Encode(mel));
            File.Move(temp, path, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (Exception d) when (d is IOException or UnauthorizedAccessException) { }
            return false;
        }
    }

    internal static byte[] Encode(Mel mel)
    {
        int payload = mel.Data.Length * sizeof(float);
        var bytes = new byte[HeaderBytes + payload + ChecksumBytes];
        Magic.CopyTo(bytes, 0);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), mel.Channels);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), mel.Frames);
        for (int i = 0; i < mel.Data.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(HeaderBytes + i * 4), mel.Data[i]);
        }
        SHA256.HashData(bytes.AsSpan(0, HeaderBytes + payload), bytes.AsSpan(HeaderBytes + payload));
        return bytes;
    }

    internal static bool TryDecode(byte[] bytes, out Mel mel)
    {
        mel = null!;
        if (bytes.Length < HeaderBytes + ChecksumBytes || !bytes.AsSpan(0, 8).SequenceEqual(Magic)) return false;
        int channels = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8));
        int frames = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12));
        if (channels <= 0 || frames <= 0 || (long)channels * frames * 4 != bytes.Length - HeaderBytes - ChecksumBytes) return false;
        int payload = channels * frames * 4;
        Span<byte> sum = stackalloc byte[ChecksumBytes];
        SHA256.HashData(bytes.AsSpan(0, HeaderBytes + payload), sum);
        if (!sum.SequenceEqual(bytes.AsSpan(HeaderBytes + payload, ChecksumBytes))) return false;
        var data = new float[channels * frames];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(HeaderBytes + i * 4));
        }
        mel = new Mel(channels, frames, data);
        return true;
    }
}
