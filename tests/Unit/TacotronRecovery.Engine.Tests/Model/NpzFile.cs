using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace TacotronRecovery.Engine.Tests.Model;

/// <summary>Minimal NumPy .npz writer/reader (little-endian int64 and float32, C order) for the PyTorch parity test.</summary>
internal static partial class NpzFile
{
    public static void Write(string path, IReadOnlyDictionary<string, (Array Data, long[] Shape)> arrays)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (name, (data, shape)) in arrays)
        {
            var descr = data switch
            {
                long[] => "<i8",
                float[] => "<f4",
                _ => throw new ArgumentException($"unsupported array type {data.GetType()}"),
            };
            var shapeText = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";
            var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shapeText}, }}";
            var total = 10 + header.Length + 1;
            header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
            using var s = zip.CreateEntry(name + ".npy").Open();
            using var w = new BinaryWriter(s);
            w.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 });
            w.Write((ushort)header.Length);
            w.Write(Encoding.ASCII.GetBytes(header));
            var bytes = new byte[Buffer.ByteLength(data)];
            Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
            w.Write(bytes);
        }
    }

    public static Dictionary<string, (float[] Data, long[] Shape)> ReadFloat32(string path)
    {
        var result = new Dictionary<string, (float[], long[])>();
        using var zip = ZipFile.OpenRead(path);
        foreach (var entry in zip.Entries)
        {
            using var s = entry.Open();
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            var bytes = ms.ToArray();
            if (bytes[6] != 1)
            {
                throw new InvalidDataException($"{entry.Name}: npy version {bytes[6]} not supported");
            }

            int headerLength = BitConverter.ToUInt16(bytes, 8);
            var header = Encoding.ASCII.GetString(bytes, 10, headerLength);
            if (!header.Contains("'<f4'", StringComparison.Ordinal) || header.Contains("'fortran_order': True", StringComparison.Ordinal))
            {
                throw new InvalidDataException($"{entry.Name}: expected C-order float32, header {header}");
            }

            var shape = ShapePattern().Match(header).Groups[1].Value
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            var data = new float[(bytes.Length - 10 - headerLength) / 4];
            Buffer.BlockCopy(bytes, 10 + headerLength, data, 0, data.Length * 4);
            result[Path.GetFileNameWithoutExtension(entry.Name)] = (data, shape);
        }

        return result;
    }

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
