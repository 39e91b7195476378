using TacotronRecovery.Core.Config;
using TacotronRecovery.Engine.Model;

namespace TacotronRecovery.Engine.Tests.Model;

[Collection("torch")]
public class StateDictTests
{
    /// <summary>
    /// state_dict of the PyTorch reference's Tacotron2 (tools/reference/tacotron2_reference.py) for
    /// <see cref="ModelTestData.Tiny"/> (printed by PyTorch 1.13: key and shape per line, in order).
    /// </summary>
    private const string ReferenceTiny = """
        embedding.weight [12, 16]
        encoder.convolutions.0.0.conv.weight [16, 16, 5]
        encoder.convolutions.0.0.conv.bias [16]
        encoder.convolutions.0.1.weight [16]
        encoder.convolutions.0.1.bias [16]
        encoder.convolutions.0.1.running_mean [16]
        encoder.convolutions.0.1.running_var [16]
        encoder.convolutions.0.1.num_batches_tracked []
        encoder.convolutions.1.0.conv.weight [16, 16, 5]
        encoder.convolutions.1.0.conv.bias [16]
        encoder.convolutions.1.1.weight [16]
        encoder.convolutions.1.1.bias [16]
        encoder.convolutions.1.1.running_mean [16]
        encoder.convolutions.1.1.running_var [16]
        encoder.convolutions.1.1.num_batches_tracked []
        encoder.lstm.weight_ih_l0 [32, 16]
        encoder.lstm.weight_hh_l0 [32, 8]
        encoder.lstm.bias_ih_l0 [32]
        encoder.lstm.bias_hh_l0 [32]
        encoder.lstm.weight_ih_l0_reverse [32, 16]
        encoder.lstm.weight_hh_l0_reverse [32, 8]
        encoder.lstm.bias_ih_l0_reverse [32]
        encoder.lstm.bias_hh_l0_reverse [32]
        decoder.prenet.layers.0.linear_layer.weight [8, 5]
        decoder.prenet.layers.1.linear_layer.weight [8, 8]
        decoder.attention_rnn.weight_ih [80, 24]
        decoder.attention_rnn.weight_hh [80, 20]
        decoder.attention_rnn.bias_ih [80]
        decoder.attention_rnn.bias_hh [80]
        decoder.attention_layer.query_layer.linear_layer.weight [6, 20]
        decoder.attention_layer.memory_layer.linear_layer.weight [6, 16]
        decoder.attention_layer.v.linear_layer.weight [1, 6]
        decoder.attention_layer.location_layer.location_conv.conv.weight [4, 2, 5]
        decoder.attention_layer.location_layer.location_dense.linear_layer.weight [6, 4]
        decoder.decoder_rnn.weight_ih [96, 36]
        decoder.decoder_rnn.weight_hh [96, 24]
        decoder.decoder_rnn.bias_ih [96]
        decoder.decoder_rnn.bias_hh [96]
        decoder.linear_projection.linear_layer.weight [5, 40]
        decoder.linear_projection.linear_layer.bias [5]
        decoder.gate_layer.linear_layer.weight [1, 40]
        decoder.gate_layer.linear_layer.bias [1]
        postnet.convolutions.0.0.conv.weight [10, 5, 5]
        postnet.convolutions.0.0.conv.bias [10]
        postnet.convolutions.0.1.weight [10]
        postnet.convolutions.0.1.bias [10]
        postnet.convolutions.0.1.running_mean [10]
        postnet.convolutions.0.1.running_var [10]
        postnet.convolutions.0.1.num_batches_tracked []
        postnet.convolutions.1.0.conv.weight [10, 10, 5]
        postnet.convolutions.1.0.conv.bias [10]
        postnet.convolutions.1.1.weight [10]
        postnet.convolutions.1.1.bias [10]
        postnet.convolutions.1.1.running_mean [10]
        postnet.convolutions.1.1.running_var [10]
        postnet.convolutions.1.1.num_batches_tracked []
        postnet.convolutions.2.0.conv.weight [5, 10, 5]
        postnet.convolutions.2.0.conv.bias [5]
        postnet.convolutions.2.1.weight [5]
        postnet.convolutions.2.1.bias [5]
        postnet.convolutions.2.1.running_mean [5]
        postnet.convolutions.2.1.running_var [5]
        postnet.convolutions.2.1.num_batches_tracked []
        """;

    internal static string[] Describe(Tacotron2 model) =>
        model.state_dict().Select(kv => $"{kv.Key} [{string.Join(", ", kv.Value.shape)}]").ToArray();

    [Fact]
    public void StateDict_TinyConfig_EqualsReferenceKeysAndShapes()
    {
        using var model = new Tacotron2("tacotron2", ModelTestData.Tiny());
        var expected = ReferenceTiny.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(63, expected.Length);
        // Same set of keys and shapes; TorchSharp lists buffers after all parameters, PyTorch per module (loading is by name).
        Assert.Equal(expected.Order(StringComparer.Ordinal), Describe(model).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ParameterCount_NvidiaPreset_Is28193153()
    {
        using var model = new Tacotron2("tacotron2", ModelOptions.ForPreset("nvidia"));
        Assert.Equal(28_193_153, model.ParameterCount());
    }

    [Fact]
    public void ParameterCount_SmallPreset_Is7267713()
    {
        using var model = new Tacotron2("tacotron2", ModelOptions.ForPreset("small"));
        Assert.Equal(7_267_713, model.ParameterCount());
    }

    [Fact]
    public void ParameterCount_DemoPreset_Is1766705()
    {
        // The PyTorch reference with the demo dims has 1,776,945; its r = 2 prenet takes both frames of a group (160 inputs),
        // ours the last frame (80): 128 × 80 fewer weights.
        using var model = new Tacotron2("tacotron2", ModelOptions.ForPreset("demo"));
        Assert.Equal(1_776_945 - 128 * 80, model.ParameterCount());
    }

    [Fact]
    public void Constructor_OddEncoderDim_ThrowsNamingKey()
    {
        var e = Assert.Throws<ArgumentException>(() => new Tacotron2("t", ModelTestData.Tiny() with { SymbolsEmbeddingDim = 15, EncoderEmbeddingDim = 15 }));
        Assert.Contains("model.encoder_embedding_dim", e.Message);
    }

    [Fact]
    public void Constructor_ZeroFramesPerStep_ThrowsNamingKey()
    {
        var e = Assert.Throws<ArgumentException>(() => new Tacotron2("t", ModelTestData.Tiny(0)));
        Assert.Contains("model.n_frames_per_step", e.Message);
    }
}
