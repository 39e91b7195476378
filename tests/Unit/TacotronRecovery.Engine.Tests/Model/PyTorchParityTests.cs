using System.Diagnostics;
using System.Text.Json;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Engine.Model;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Tests.Model;

/// <summary>Compares the model with shared/bench/reference.py (PyTorch) on identical weights.</summary>
[Collection("torch")]
public class PyTorchParityTests
{
    // CI installs Debian's python3-torch; without it these tests fail with a message saying so (never skip silently).
    internal static string ReferenceScript => TacotronRecovery.Engine.Tests.Interop.ReferencePython.Script;

    internal static (int ExitCode, string Output) Python(string arguments)
    {
        if (!File.Exists("/usr/bin/python3"))
        {
            return (-1, "no /usr/bin/python3");
        }

        var psi = new ProcessStartInfo("/usr/bin/python3", arguments)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    private static string Dims(ModelOptions o) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["n_symbols"] = o.NSymbols, ["symbols_embedding_dim"] = o.SymbolsEmbeddingDim,
        ["encoder_kernel_size"] = o.EncoderKernelSize, ["encoder_n_convolutions"] = o.EncoderNConvolutions,
        ["encoder_embedding_dim"] = o.EncoderEmbeddingDim, ["n_frames_per_step"] = o.NFramesPerStep,
        ["decoder_rnn_dim"] = o.DecoderRnnDim, ["prenet_dim"] = o.PrenetDim, ["attention_rnn_dim"] = o.AttentionRnnDim,
        ["attention_dim"] = o.AttentionDim, ["attention_location_n_filters"] = o.AttentionLocationNFilters,
        ["attention_location_kernel_size"] = o.AttentionLocationKernelSize, ["postnet_embedding_dim"] = o.PostnetEmbeddingDim,
        ["postnet_kernel_size"] = o.PostnetKernelSize, ["postnet_n_convolutions"] = o.PostnetNConvolutions,
        ["n_mel_channels"] = o.NMelChannels,
    });

    [Fact]
    public void StateDict_TinyConfig_EqualsPyTorchReference()
    {
        TacotronRecovery.Engine.Tests.Interop.ReferencePython.Require();
        using var scope = NewDisposeScope();
        var o = ModelTestData.Tiny();
        var dir = Directory.CreateTempSubdirectory("tacotron-keys-");
        try
        {
            var script = Path.Combine(dir.FullName, "keys.py");
            File.WriteAllText(script, $$"""
                import sys, json
                sys.path.insert(0, {{JsonSerializer.Serialize(Path.GetDirectoryName(ReferenceScript))}})
                import reference as R
                m = R.Tacotron2(dict(R.NVIDIA, **json.load(open(sys.argv[1]))))
                for k, v in m.state_dict().items():
                    print(k + " [" + ", ".join(str(d) for d in v.shape) + "]")
                """);
            var dims = Path.Combine(dir.FullName, "dims.json");
            File.WriteAllText(dims, Dims(o));
            var (code, output) = Python($"{script} {dims}");
            Assert.True(code == 0, output);
            using var model = new Tacotron2("tacotron2", o);
            var expected = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.Equal(63, expected.Length);
            Assert.Equal(expected.Order(StringComparer.Ordinal), StateDictTests.Describe(model).Order(StringComparer.Ordinal));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Forward_SameWeightsDropoutOff_MatchesPyTorchReferenceWithin1e4()
    {
        TacotronRecovery.Engine.Tests.Interop.ReferencePython.Require();
        using var scope = NewDisposeScope();
        var o = ModelTestData.Tiny() with { PrenetDropoutAlways = false };
        random.manual_seed(41);
        using var model = new Tacotron2("tacotron2", o);
        // Equal text lengths (the reference's encoder convolutions see pad embeddings; ours see zeros) but padded mels.
        var x = ModelTestData.Make(o, new[] { 7, 7 }, new[] { 11, 8 }, padMel: 0.25f);
        model.train();
        using (no_grad())
        {
            model.Forward(x.Text, x.TextLengths, x.Mels, x.MelLengths); // non-trivial batch-norm running statistics
        }

        model.eval();
        Tacotron2Output ours;
        using (no_grad())
        {
            ours = model.Forward(x.Text, x.TextLengths, x.Mels, x.MelLengths);
        }

        var dir = Directory.CreateTempSubdirectory("tacotron-parity-");
        try
        {
            var ckpt = Path.Combine(dir.FullName, "ckpt.pt");
            var dims = Path.Combine(dir.FullName, "dims.json");
            var input = Path.Combine(dir.FullName, "in.npz");
            var outPath = Path.Combine(dir.FullName, "out.npz");
            model.save_py(ckpt);
            File.WriteAllText(dims, Dims(o));
            NpzFile.Write(input, new Dictionary<string, (Array, long[])>
            {
                ["text"] = (x.Text.data<long>().ToArray(), x.Text.shape),
                ["input_lengths"] = (x.TextLengths.data<long>().ToArray(), x.TextLengths.shape),
                ["mel"] = (x.Mels.data<float>().ToArray(), x.Mels.shape),
                ["output_lengths"] = (x.MelLengths.data<long>().ToArray(), x.MelLengths.shape),
            });
            var (code, output) = Python($"{ReferenceScript} forward --checkpoint {ckpt} --dims {dims} --input {input} --output {outPath}");
            Assert.True(code == 0, output);
            var reference = NpzFile.ReadFloat32(outPath);

            void Same(string key, Tensor actual, Tensor? select = null)
            {
                var (data, shape) = reference[key];
                Assert.Equal(shape, actual.shape);
                var expected = tensor(data, shape);
                var diff = expected.sub(actual).abs();
                if (select is not null)
                {
                    diff = diff.masked_select(select);
                }

                var worst = diff.max().item<float>();
                Assert.True(worst < 1e-4f, $"{key}: max abs difference {worst}");
            }

            Same("mel_outputs", ours.MelOutputs);
            Same("gate_outputs", ours.GateOutputs);
            Same("alignments", ours.Alignments);
            // The reference's postnet also convolves its unmasked decoder frames beyond a mel length (ours sees zeros),
            // so only the unpadded utterance 0 is compared after the postnet.
            var first = zeros(2, 1, 1, dtype: ScalarType.Bool);
            first[0] = tensor(true);
            Same("mel_outputs_postnet", ours.MelOutputsPostnet, first.expand_as(ours.MelOutputsPostnet));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
