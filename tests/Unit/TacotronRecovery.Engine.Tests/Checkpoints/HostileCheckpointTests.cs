using System.Diagnostics;
using System.Text.Json.Nodes;
using TacotronRecovery.Engine.Checkpoints;
using TacotronRecovery.Engine.Model;
using TacotronRecovery.Engine.Tests.Model;

namespace TacotronRecovery.Engine.Tests.Checkpoints;

/// <summary>
/// Our own checkpoints, damaged every way a crash or a disk can (docs/robustness.md): each read is CheckpointCorrupt
/// naming the file within a time bound, and a failed write leaves neither a partial file nor a temp file behind.
/// </summary>
public sealed class HostileCheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tacotron-hostile-ckpt-").FullName;
    private readonly string _good;
    private readonly byte[] _bytes;

    public HostileCheckpointTests()
    {
        using var _ = ModelTestData.SingleThread();
        using var model = new Tacotron2("tacotron2", ModelTestData.Tiny());
        _good = Path.Combine(_dir, "step-000010.ckpt");
        var meta = new JsonObject { ["format"] = 1, ["step"] = 10, ["model"] = System.Text.Json.JsonSerializer.SerializeToNode(ModelTestData.Tiny(), TacotronRecovery.Core.Runs.RunJson.Options) };
        CheckpointFile.Write(_good, meta, model, null);
        _bytes = File.ReadAllBytes(_good);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private CheckpointCorruptException Corrupt(byte[] content, string name)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, content);
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<CheckpointCorruptException>(() =>
        {
            var c = CheckpointFile.Read(path);
            using var model = c.CreateModel();
        });
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
        Assert.Contains(name, e.Message);
        return e;
    }

    [Fact]
    public void TruncatedAtManyOffsets_IsCorrupt()
    {
        foreach (var length in new[] { 0, 1, 7, 8, 12, 64, _bytes.Length / 3, _bytes.Length / 2, _bytes.Length - 41, _bytes.Length - 8, _bytes.Length - 1 })
            Corrupt(_bytes[..length], $"truncated-{length}.ckpt");
    }

    [Fact]
    public void BitFlipsAnywhere_AreCorrupt()
    {
        var random = new Random(5);
        for (int i = 0; i < 12; i++)
        {
            var copy = (byte[])_bytes.Clone();
            var at = i == 0 ? 0 : random.Next(copy.Length);
            copy[at] ^= (byte)(1 << random.Next(8));
            Corrupt(copy, $"flip-{at}.ckpt");
        }
    }

    [Fact]
    public void ForeignFiles_AreCorrupt()
    {
        Corrupt("PK\u0003\u0004 not really a zip"u8.ToArray(), "pytorch.ckpt");
        Corrupt("model:\n  preset: demo\n"u8.ToArray(), "yaml.ckpt");
        Corrupt(new byte[4096], "zeros.ckpt");
        Corrupt("TRCKPT02 from the future, long enough to pass the length check"u8.ToArray(), "version2.ckpt");
    }

    [Fact]
    public void ForgedSectionsWithAValidHash_AreCorrupt()
    {
        // A section length past the end, re-hashed so that only the parser can notice.
        var forged = _bytes[..^40];
        BitConverter.GetBytes(long.MaxValue).CopyTo(forged, 8 + 4 + 1 + "meta".Length);
        var hash = System.Security.Cryptography.SHA256.HashData(forged);
        Corrupt([.. forged, .. hash, .. "TRCKEND!"u8.ToArray()], "forged.ckpt");
    }

    [Fact]
    public void WrongMetadataShape_IsCorruptNamingTheKey()
    {
        var c = CheckpointFile.Read(_good);
        var meta = (JsonObject)c.Meta.DeepClone();
        meta["model"] = "not an object";
        meta["step"] = "ten";
        var path = Path.Combine(_dir, "meta.ckpt");
        using (var model = new Tacotron2("tacotron2", ModelTestData.Tiny())) CheckpointFile.Write(path, meta, model, null);
        var read = CheckpointFile.Read(path);
        Assert.Contains("'model'", Assert.Throws<CheckpointCorruptException>(() => read.ModelOptions).Message);
        Assert.Contains("'step'", Assert.Throws<CheckpointCorruptException>(() => read.Step).Message);
    }

    [Fact]
    public void FailedWrite_LeavesThePreviousFileAndNoTempFile()
    {
        // The target is a directory: the final move fails after the temp file was written in full.
        var target = Path.Combine(_dir, "occupied.ckpt");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "keep"), "x");
        using var model = new Tacotron2("tacotron2", ModelTestData.Tiny());
        Assert.ThrowsAny<IOException>(() => CheckpointFile.Write(target, new JsonObject { ["format"] = 1 }, model, null));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp-*"));
        Assert.True(File.Exists(Path.Combine(target, "keep")));
        Assert.Equal(_bytes, File.ReadAllBytes(_good));
    }
}
