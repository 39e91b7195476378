using TacotronRecovery.Core.Config;
using TacotronRecovery.Engine.Checkpoints;
using TacotronRecovery.Engine.Interop;
using TacotronRecovery.Engine.Model;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Tests.Interop;

/// <summary>Import, export and shape inference with files TorchSharp.PyBridge writes (no Python needed).</summary>
[Collection("torch")]
public sealed class CheckpointImportTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("tacotron-interop-");

    /// <summary>Tiny dimensions with every dimension distinct, so a swapped inference cannot pass.</summary>
    internal static ModelOptions Tiny(int r = 1) => new()
    {
        Preset = "nvidia", NSymbols = 13, SymbolsEmbeddingDim = 16, EncoderEmbeddingDim = 16, EncoderNConvolutions = 2,
        EncoderKernelSize = 3, DecoderRnnDim = 24, AttentionRnnDim = 20, PrenetDim = 8, AttentionDim = 6,
        AttentionLocationNFilters = 4, AttentionLocationKernelSize = 7, PostnetEmbeddingDim = 10, PostnetKernelSize = 3,
        PostnetNConvolutions = 3, NMelChannels = 5, NFramesPerStep = r,
    };

    public void Dispose() => _dir.Delete(recursive: true);

    private string File(string name) => Path.Combine(_dir.FullName, name);

    private static Dictionary<string, Tensor> Weights(nn.Module m) =>
        m.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone(), StringComparer.Ordinal);

    private static void AssertIdentical(IReadOnlyDictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> actual, IEnumerable<string>? except = null)
    {
        var skip = new HashSet<string>(except ?? Array.Empty<string>());
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (k, e) in expected)
        {
            if (skip.Contains(k)) continue;
            Assert.Equal(e.shape, actual[k].shape);
            Assert.True(e.to_type(ScalarType.Float64).equal(actual[k].to_type(ScalarType.Float64)).all().item<bool>(), $"{k} differs");
        }
    }

    private string SaveTiny(ModelOptions o, int seed, IList<string>? skip = null)
    {
        random.manual_seed(seed);
        using var model = new Tacotron2("tacotron2", o);
        var path = File($"tiny-{seed}.pt");
        model.save_py(path, skip);
        return path;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Infer_PyBridgeStateDict_RecoversEveryDimension(int r)
    {
        var o = Tiny(r) with { PrenetDim = 9 };
        using var checkpoint = PyTorchCheckpoint.Read(SaveTiny(o, 3));
        var inferred = ModelShapeInference.Infer(checkpoint.Shapes, checkpoint.Path);
        Assert.Equal(o with { Preset = "nvidia" }, inferred);
        Assert.Equal(TorchFileFormat.Zip, checkpoint.Format);
        Assert.Equal("state_dict", checkpoint.Layout);
        Assert.False(checkpoint.HalfPrecision);
        Assert.Null(checkpoint.Iteration);
    }

    [Fact]
    public void Infer_SmallPresetDimensions_NamesThePreset()
    {
        var small = ModelOptions.ForPreset("small");
        var shapes = new Dictionary<string, long[]>
        {
            ["embedding.weight"] = new long[] { 148, 256 },
            ["encoder.convolutions.0.0.conv.weight"] = new long[] { 256, 256, 5 },
            ["encoder.convolutions.1.0.conv.weight"] = new long[] { 256, 256, 5 },
            ["encoder.convolutions.2.0.conv.weight"] = new long[] { 256, 256, 5 },
            ["encoder.lstm.weight_hh_l0"] = new long[] { 512, 128 },
            ["decoder.prenet.layers.0.linear_layer.weight"] = new long[] { 128, 80 },
            ["decoder.attention_rnn.weight_hh"] = new long[] { 2048, 512 },
            ["decoder.decoder_rnn.weight_hh"] = new long[] { 2048, 512 },
            ["decoder.attention_layer.query_layer.linear_layer.weight"] = new long[] { 128, 512 },
            ["decoder.attention_layer.location_layer.location_conv.conv.weight"] = new long[] { 32, 2, 31 },
            ["decoder.linear_projection.linear_layer.weight"] = new long[] { 80, 768 },
            ["postnet.convolutions.0.0.conv.weight"] = new long[] { 256, 80, 5 },
            ["postnet.convolutions.1.0.conv.weight"] = new long[] { 256, 256, 5 },
            ["postnet.convolutions.2.0.conv.weight"] = new long[] { 256, 256, 5 },
            ["postnet.convolutions.3.0.conv.weight"] = new long[] { 256, 256, 5 },
            ["postnet.convolutions.4.0.conv.weight"] = new long[] { 80, 256, 5 },
        };
        Assert.Equal(small, ModelShapeInference.Infer(shapes, "x.pt"));
    }

    [Fact]
    public void Infer_MissingShapeKey_NamesTheKey()
    {
        var e = Assert.Throws<InteropException>(() => ModelShapeInference.Infer(
            new Dictionary<string, long[]> { ["embedding.weight"] = new long[] { 148, 512 } }, "x.pt"));
        Assert.Equal("CheckpointInvalid", e.ErrorId);
        Assert.Contains("'encoder.convolutions.0.0.conv.weight' is missing", e.Message, StringComparison.Ordinal);
        Assert.Contains("embedding.weight [148, 512]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_PyBridgeStateDict_WritesCheckpointTheTrainerLoadsStrictly()
    {
        var o = Tiny();
        var source = SaveTiny(o, 5);
        random.manual_seed(5);
        using var original = new Tacotron2("tacotron2", o);
        var expected = Weights(original);

        var result = CheckpointImporter.Import(source, File("imported.ckpt"));

        Assert.Equal(0, result.Step);
        Assert.Equal("state_dict", result.Layout);
        Assert.False(result.OptimizerCarried);
        Assert.Empty(result.Warnings);
        Assert.Equal(original.ParameterCount(), result.Parameters);
        var loaded = CheckpointFile.Read(result.Path);
        Assert.Equal(1, loaded.Meta["format"]!.GetValue<int>());
        Assert.True(loaded.Meta["good"]!.GetValue<bool>());
        Assert.Equal(Path.GetFullPath(source), loaded.Meta["imported_from"]!.GetValue<string>());
        Assert.Equal(16, loaded.Meta["model"]!["encoder_embedding_dim"]!.GetValue<int>());
        Assert.Null(loaded.Optimizer);
        using var model = new Tacotron2("tacotron2", o);
        loaded.ApplyTo(model);
        AssertIdentical(expected, Weights(model));
    }

    [Fact]
    public void Import_ReferenceSymbolSetAnd80Mels_SynthesizerSpeaksWithIt()
    {
        var o = Tiny() with { NSymbols = 148, NMelChannels = 80, MaxDecoderSteps = 30 };
        var result = CheckpointImporter.Import(SaveTiny(o, 15), File("speak.ckpt"));
        using var synthesizer = new TacotronRecovery.Engine.Inference.Synthesizer(result.Path);
        var spoken = synthesizer.Synthesize("Hello there.", griffinLimIterations: 1);
        Assert.InRange(spoken.Frames, 1, 1000);
        Assert.Equal(22050, spoken.SampleRate);
        Assert.NotEmpty(spoken.Audio);
    }

    [Fact]
    public void ExportThenImport_OurCheckpoint_RoundTripsBitForBit()
    {
        var o = Tiny(r: 2);
        var first = CheckpointImporter.Import(SaveTiny(o, 8), File("a.ckpt"));
        var exported = CheckpointExporter.Export(first.Path, File("exported.pt"));
        Assert.Equal(63, exported.Tensors);
        var second = CheckpointImporter.Import(exported.Path, File("b.ckpt"));

        using var a = new Tacotron2("tacotron2", first.Model);
        using var b = new Tacotron2("tacotron2", second.Model);
        CheckpointFile.Read(first.Path).ApplyTo(a);
        CheckpointFile.Read(second.Path).ApplyTo(b);
        Assert.Equal(first.Model, second.Model);
        AssertIdentical(Weights(a), Weights(b));
    }

    [Fact]
    public void Import_MissingKey_ErrorListsKeyAndShape()
    {
        var source = SaveTiny(Tiny(), 9, skip: new[] { "decoder.gate_layer.linear_layer.bias" });
        var e = Assert.Throws<InteropException>(() => CheckpointImporter.Import(source, File("x.ckpt")));
        Assert.Equal("CheckpointInvalid", e.ErrorId);
        Assert.Contains("missing decoder.gate_layer.linear_layer.bias [1]", e.Message, StringComparison.Ordinal);
        Assert.False(System.IO.File.Exists(File("x.ckpt")));
    }

    [Fact]
    public void Import_IgnoreEmbeddingWithNewSymbolCount_KeepsFreshEmbeddingAndLoadsTheRest()
    {
        var o = Tiny();
        var source = SaveTiny(o, 11);
        random.manual_seed(11);
        using var original = new Tacotron2("tacotron2", o);
        var expected = Weights(original);

        var result = CheckpointImporter.Import(source, File("warm.ckpt"), new ImportOptions { IgnoreLayers = new[] { "embedding.weight" }, NSymbols = 21 });

        Assert.Equal(21, result.Model.NSymbols);
        Assert.Equal(new[] { "embedding.weight" }, result.IgnoredKeys);
        using var model = new Tacotron2("tacotron2", result.Model);
        CheckpointFile.Read(result.Path).ApplyTo(model);
        var actual = Weights(model);
        Assert.Equal(new long[] { 21, 16 }, actual["embedding.weight"].shape);
        expected.Remove("embedding.weight");
        actual.Remove("embedding.weight");
        AssertIdentical(expected, actual);
    }

    [Fact]
    public void Import_IgnorePrefixThatMatchesNothing_IsAnError()
    {
        var e = Assert.Throws<InteropException>(() => CheckpointImporter.Import(SaveTiny(Tiny(), 12), File("x.ckpt"),
            new ImportOptions { IgnoreLayers = new[] { "speaker_embedding" } }));
        Assert.Contains("-IgnoreLayers speaker_embedding matches no model key", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_GarbageFile_IsCheckpointCorrupt()
    {
        System.IO.File.WriteAllText(File("garbage.pt"), "this is not a checkpoint at all");
        var e = Assert.Throws<InteropException>(() => PyTorchCheckpoint.Read(File("garbage.pt")));
        Assert.Equal("CheckpointCorrupt", e.ErrorId);
        Assert.Contains("garbage.pt", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_PickleHeaderThenJunk_IsCheckpointCorruptWithoutHugeAllocation()
    {
        // PROTO 2, then BINUNICODE claiming 2 GB: refused as running past the end of the file.
        System.IO.File.WriteAllBytes(File("junk.pt"), new byte[] { 0x80, 0x02, (byte)'X', 0xff, 0xff, 0xff, 0x7f, 1, 2, 3 });
        var e = Assert.Throws<InteropException>(() => PyTorchCheckpoint.Read(File("junk.pt")));
        Assert.Equal("CheckpointCorrupt", e.ErrorId);
        Assert.Contains("runs past the end of the data", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TruncatedZip_IsCheckpointCorrupt()
    {
        var bytes = System.IO.File.ReadAllBytes(SaveTiny(Tiny(), 13));
        System.IO.File.WriteAllBytes(File("cut.pt"), bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InteropException>(() => PyTorchCheckpoint.Read(File("cut.pt")));
        Assert.Equal("CheckpointCorrupt", e.ErrorId);
    }

    [Fact]
    public void Read_OurOwnCheckpoint_IsCheckpointInvalidWithHint()
    {
        var ours = CheckpointImporter.Import(SaveTiny(Tiny(), 14), File("ours.ckpt"));
        var e = Assert.Throws<InteropException>(() => PyTorchCheckpoint.Read(ours.Path));
        Assert.Equal("CheckpointInvalid", e.ErrorId);
        Assert.Contains("TacotronRecovery checkpoint already", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Npz_WriteThenRead_KeepsDtypesShapesAndValues()
    {
        var f32 = arange(0, 24, dtype: ScalarType.Float32).reshape(2, 3, 4).div(7);
        var i64 = tensor(new long[] { 5, -3, 1L << 40 });
        var f16 = tensor(new float[] { 0.1f, -2.5f, 65504f }).to_type(ScalarType.Float16);
        Npz.Write(File("a.npz"), new Dictionary<string, Tensor> { ["x"] = f32, ["lengths"] = i64, ["half"] = f16 });
        var back = Npz.Read(File("a.npz"));
        Assert.Equal(new long[] { 2, 3, 4 }, back["x"].shape);
        Assert.True(back["x"].equal(f32).all().item<bool>());
        Assert.Equal(ScalarType.Int64, back["lengths"].dtype);
        Assert.Equal(new long[] { 5, -3, 1L << 40 }, back["lengths"].data<long>().ToArray());
        Assert.Equal(ScalarType.Float16, back["half"].dtype);
        Assert.True(back["half"].equal(f16).all().item<bool>());
    }

    [Fact]
    public void Npz_BigEndianArray_IsRejectedNamingTheArray()
    {
        using (var zip = System.IO.Compression.ZipFile.Open(File("be.npz"), System.IO.Compression.ZipArchiveMode.Create))
        using (var s = zip.CreateEntry("mel.npy").Open())
        {
            var header = "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }".PadRight(117) + "\n";
            s.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0 });
            s.Write(System.Text.Encoding.ASCII.GetBytes(header));
            s.Write(new byte[4]);
        }
        var e = Assert.Throws<InteropException>(() => Npz.Read(File("be.npz")));
        Assert.Equal("ParityInputInvalid", e.ErrorId);
        Assert.Contains("array mel.npy: dtype >f4 is not supported", e.Message, StringComparison.Ordinal);
    }
}
