using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using TacotronRecovery.Engine.Interop;

namespace TacotronRecovery.Engine.Tests.Interop;

/// <summary>
/// PyTorch files from strangers (docs/robustness.md): every hostile shape is CheckpointCorrupt naming the file, within a
/// time bound, without a stack overflow, a huge allocation or a native error. The files are made here, byte by byte.
/// </summary>
public sealed class HostilePyTorchFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tacotron-hostile-pt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const byte Proto = 0x80, Stop = (byte)'.', Mark = (byte)'(', EmptyList = (byte)']', BinPut = (byte)'q',
        BinGet = (byte)'h', Append = (byte)'a', BinUnicode = (byte)'X', EmptyDict = (byte)'}', SetItem = (byte)'s',
        ShortBinUnicode = 0x8c, Tuple = (byte)'t', BinPersId = (byte)'Q', Global = (byte)'c', Reduce = (byte)'R',
        BinInt1 = (byte)'K', BinInt = (byte)'J', Pop = (byte)'0';

    private InteropException Corrupt(string path, TimeSpan? bound = null)
    {
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<InteropException>(() => TorchFile.Read(path));
        Assert.True(clock.Elapsed < (bound ?? TimeSpan.FromSeconds(5)), $"took {clock.Elapsed}");
        Assert.Equal("CheckpointCorrupt", e.ErrorId);
        Assert.Contains(Path.GetFileName(path), e.Message);
        return e;
    }

    /// <summary>A legacy (pre-1.6) file: magic, version, sys info, then <paramref name="main"/>, then an empty key list.</summary>
    private string Legacy(string name, byte[] main)
    {
        var ms = new MemoryStream();
        // magic number 0x1950a86a20f9469cfc6c as LONG1
        ms.Write([Proto, 2, 0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, Stop]);
        ms.Write([Proto, 2, (byte)'M', 0xe9, 0x03, Stop]); // 1001
        ms.Write([Proto, 2, EmptyDict, Stop]);
        ms.Write(main);
        ms.Write([Proto, 2, EmptyList, Stop]);
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, ms.ToArray());
        return path;
    }

    private string Zip(string name, byte[] pickle, Action<ZipArchive>? more = null, CompressionLevel level = CompressionLevel.NoCompression)
    {
        var path = Path.Combine(_dir, name);
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            using (var s = zip.CreateEntry("archive/data.pkl", level).Open()) s.Write(pickle);
            more?.Invoke(zip);
        }
        return path;
    }

    [Fact]
    public void LegacySelfReferencingList_IsCorruptNotAStackOverflow()
    {
        // l = []; l.append(l); {"state_dict": l}
        var e = Corrupt(Legacy("cycle.pt", [Proto, 2, EmptyDict, ShortBinUnicode, 10, .. "state_dict"u8, EmptyList, BinPut, 0,
            BinGet, 0, Append, SetItem, Stop]));
        Assert.Contains("contains itself", e.Message);
    }

    [Fact]
    public void LegacyMillionDeepNesting_IsCorrupt()
    {
        var body = new List<byte> { Proto, 2 };
        const int depth = 1_000_000;
        body.Add(EmptyList);
        for (int i = 0; i < depth; i++) { body.Add(EmptyList); }
        for (int i = 0; i < depth; i++) body.Add(Append);
        body.Add(Stop);
        Corrupt(Legacy("deep.pt", body.ToArray()));
    }

    [Fact]
    public void ZipPickleDeclaringA2GBString_FailsBeforeAllocating()
    {
        var before = GC.GetTotalAllocatedBytes();
        var e = Corrupt(Zip("bigstring.pt", [Proto, 2, BinUnicode, 0xff, 0xff, 0xff, 0x7f, Stop]));
        Assert.Contains("past the end", e.Message);
        Assert.True(GC.GetTotalAllocatedBytes() - before < 256L << 20, "allocated more than 256 MB");
    }

    [Fact]
    public void ManyMarks_AreLinear()
    {
        // 200 000 items, then 100 000 MARK + POP_MARK pairs: the old reader copied the stack at each MARK.
        var body = new List<byte> { Proto, 2 };
        for (int i = 0; i < 200_000; i++) { body.Add(BinInt1); body.Add(1); }
        for (int i = 0; i < 100_000; i++) { body.Add(Mark); body.Add((byte)'1'); }
        body.Add(Stop);
        var path = Zip("marks.pt", body.ToArray());
        var clock = Stopwatch.StartNew();
        TorchFile.Read(path);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
    }

    [Fact]
    public void ZipBomb_IsRefusedByItsRatio()
    {
        var e = Corrupt(Zip("bomb.pt", [Proto, 2, EmptyDict, Stop], zip =>
        {
            using var s = zip.CreateEntry("archive/data/0", CompressionLevel.SmallestSize).Open();
            var zeros = new byte[1 << 20];
            for (int i = 0; i < 300; i++) s.Write(zeros); // 300 MB of zeros, ~300 KB compressed
        }));
        Assert.Contains("bomb", e.Message);
    }

    [Fact]
    public void StorageDeclaringMoreElementsThanItsEntry_IsCorrupt()
    {
        var e = Corrupt(Zip("numel.pt", StorageTensorPickle(numel: 1L << 40, size: 4), zip =>
        {
            using var s = zip.CreateEntry("archive/data/0", CompressionLevel.NoCompression).Open();
            s.Write(new byte[16]);
        }));
        Assert.True(e.Message.Contains("declares"), e.Message);
    }

    [Fact]
    public void TensorViewOutsideItsStorage_IsCorrupt()
    {
        var e = Corrupt(Zip("view.pt", StorageTensorPickle(numel: 4, size: 400), zip =>
        {
            using var s = zip.CreateEntry("archive/data/0", CompressionLevel.NoCompression).Open();
            s.Write(new byte[16]);
        }));
        Assert.True(e.Message.Contains("reaches element"), e.Message);
    }

    [Fact]
    public void UnknownOpcode_TruncatedPickle_AndStackUnderflow_AreCorrupt()
    {
        Corrupt(Zip("opcode.pt", [Proto, 2, 0xfe, Stop]));
        Corrupt(Zip("truncated.pt", [Proto, 2, EmptyDict, ShortBinUnicode, 200, (byte)'a']));
        Corrupt(Zip("underflow.pt", [Proto, 2, Pop, Pop, Stop]));
    }

    /// <summary>{"w": _rebuild_tensor_v2(persistent(("storage", FloatStorage, "0", "cpu", numel)), 0, (size,), (1,))}</summary>
    private static byte[] StorageTensorPickle(long numel, long size)
    {
        var b = new List<byte> { Proto, 2, EmptyDict, ShortBinUnicode, 1, (byte)'w' };
        b.Add(Global); b.AddRange("torch._utils\n_rebuild_tensor_v2\n"u8.ToArray());
        b.Add(Mark);
        b.Add(Mark);
        foreach (var s in new[] { "storage" }) { b.Add(ShortBinUnicode); b.Add((byte)s.Length); b.AddRange(Encoding.ASCII.GetBytes(s)); }
        b.Add(Global); b.AddRange("torch\nFloatStorage\n"u8.ToArray());
        foreach (var s in new[] { "0", "cpu" }) { b.Add(ShortBinUnicode); b.Add((byte)s.Length); b.AddRange(Encoding.ASCII.GetBytes(s)); }
        b.Add(0x8a); b.Add(8); b.AddRange(BitConverter.GetBytes(numel)); // LONG1
        b.Add(Tuple); b.Add(BinPersId);
        b.Add(BinInt1); b.Add(0);
        b.Add(Mark); b.Add(BinInt); b.AddRange(BitConverter.GetBytes((int)size)); b.Add(Tuple);
        b.Add(Mark); b.Add(BinInt1); b.Add(1); b.Add(Tuple);
        b.Add(Tuple); b.Add(Reduce);
        b.Add(SetItem); b.Add(Stop);
        return b.ToArray();
    }
}
