using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Interop;

/// <summary>
/// NumPy <c>.npz</c> (a zip of <c>.npy</c> arrays, stored or deflated) reader and writer for little-endian float32,
/// float16, float64, int64 and int32, C order (what <c>np.savez</c> writes for those dtypes). Arrays come back as CPU
/// tensors of the same dtype.
/// </summary>
public static partial class Npz
{
    /// <summary>Reads every array of <paramref name="path"/>, by name (without <c>.npy</c>).</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path)) throw new InteropException("ParityInputInvalid", path, "the file does not exist");
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using var zip = ZipFile.OpenRead(path);
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                using var s = entry.Open();
                using var ms = new MemoryStream();
                s.CopyTo(ms);
                result[entry.FullName[..^4]] = ReadNpy(ms.ToArray(), entry.FullName, path);
            }
        }
        catch (InvalidDataException e)
        {
            throw new InteropException("ParityInputInvalid", path, "it is not a NumPy .npz (zip) file: " + e.Message);
        }
        return result;
    }

    /// <summary>Writes <paramref name="arrays"/> (contiguous copies are taken) to <paramref name="path"/> as np.savez does.</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> arrays)
    {
        var temp = path + ".tmp-" + Environment.ProcessId;
        using (var fs = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        using (var zip = new ZipArchive(fs, ZipArchiveMode.Create))
        {
            foreach (var (name, tensor) in arrays)
            {
                using var t = tensor.detach().cpu().contiguous();
                var descr = t.dtype switch
                {
                    ScalarType.Float32 => "<f4",
                    ScalarType.Float16 => "<f2",
                    ScalarType.Float64 => "<f8",
                    ScalarType.Int64 => "<i8",
                    ScalarType.Int32 => "<i4",
                    _ => throw new ArgumentException($"array '{name}': dtype {t.dtype} is not supported", nameof(arrays)),
                };
                var shape = t.shape.Length == 1 ? $"({t.shape[0]},)" : "(" + string.Join(", ", t.shape) + ")";
                var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
                int pad = (64 - (10 + header.Length + 1) % 64) % 64;
                header = header + new string(' ', pad) + "\n";
                using var es = zip.CreateEntry(name + ".npy", CompressionLevel.NoCompression).Open();
                es.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 });
                es.Write(BitConverter.GetBytes((ushort)header.Length));
                es.Write(Encoding.ASCII.GetBytes(header));
                es.Write(t.bytes);
            }
        }
        File.Move(temp, path, overwrite: true);
    }

    private static Tensor ReadNpy(byte[] bytes, string entry, string path)
    {
        InteropException Bad(string why) => new("ParityInputInvalid", path, $"array {entry}: {why}");
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY") throw Bad("not a .npy array (bad magic)");
        int major = bytes[6];
        int headerLength, offset;
        if (major == 1) { headerLength = BitConverter.ToUInt16(bytes, 8); offset = 10; }
        else if (major is 2 or 3) { headerLength = checked((int)BitConverter.ToUInt32(bytes, 8)); offset = 12; }
        else throw Bad($"npy version {major} is not supported");
        if (offset + headerLength > bytes.Length) throw Bad("truncated header");
        var header = Encoding.ASCII.GetString(bytes, offset, headerLength);
        var descr = DescrPattern().Match(header);
        var shapeMatch = ShapePattern().Match(header);
        if (!descr.Success || !shapeMatch.Success) throw Bad($"unreadable header {header.Trim()}");
        if (header.Contains("'fortran_order': True", StringComparison.Ordinal)) throw Bad("Fortran order is not supported (use np.ascontiguousarray)");
        var dtype = descr.Groups[1].Value switch
        {
            "<f4" => ScalarType.Float32,
            "<f2" => ScalarType.Float16,
            "<f8" => ScalarType.Float64,
            "<i8" => ScalarType.Int64,
            "<i4" => ScalarType.Int32,
            var d => throw Bad($"dtype {d} is not supported (expected little-endian float32, float16, float64, int64 or int32)"),
        };
        var shape = shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        var t = empty(shape, dtype);
        long need = t.numel() * t.ElementSize;
        int dataStart = offset + headerLength;
        if (bytes.Length - dataStart != need) throw Bad($"holds {bytes.Length - dataStart} data bytes, its shape {ModelShapeInference.Format(shape)} needs {need}");
        t.bytes = bytes.AsSpan(dataStart);
        return t;
    }

    [GeneratedRegex(@"'descr':\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
