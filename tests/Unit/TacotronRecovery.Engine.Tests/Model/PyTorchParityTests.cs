using TacotronRecovery.Core.Config;
using TacotronRecovery.Engine.Model;
using TacotronRecovery.Engine.Tests.Interop;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Tests.Model;

/// <summary>
/// Compares the model with the repository's PyTorch reference (tools/reference/tacotron2_reference.py) on identical
/// weights; skipped with the reason where python3 lacks torch (build.ps1 test installs it when it can).
/// </summary>
[Collection("torch")]
public class PyTorchParityTests
{
    [PyTorchFact]
    public void StateDict_TinyConfig_EqualsPyTorchReference()
    {
        using var scope = NewDisposeScope();
        var o = ModelTestData.Tiny();
        var dir = Directory.CreateTempSubdirectory("tacotron-keys-");
        try
        {
            var script = Path.Combine(dir.FullName, "keys.py");
            File.WriteAllText(script, $$"""
                import json
                {{ReferencePython.ImportReference}}
                m = R.Tacotron2(dict(R.NVIDIA, **json.load(open(sys.argv[1]))))
                for k, v in m.state_dict().items():
                    print(k + " [" + ", ".join(str(d) for d in v.shape) + "]")
                """);
            var output = ReferencePython.Run(script, ReferencePython.WriteDims(dir.FullName, o));
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

    [PyTorchFact]
    public void Forward_SameWeightsDropoutOff_MatchesPyTorchReferenceWithin1e4()
    {
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
            var input = Path.Combine(dir.FullName, "in.npz");
            var outPath = Path.Combine(dir.FullName, "out.npz");
            model.save_py(ckpt);
            NpzFile.Write(input, new Dictionary<string, (Array, long[])>
            {
                ["text"] = (x.Text.data<long>().ToArray(), x.Text.shape),
                ["input_lengths"] = (x.TextLengths.data<long>().ToArray(), x.TextLengths.shape),
                ["mel"] = (x.Mels.data<float>().ToArray(), x.Mels.shape),
                ["output_lengths"] = (x.MelLengths.data<long>().ToArray(), x.MelLengths.shape),
            });
            ReferencePython.Run(ReferencePython.Script, "forward", "--checkpoint", ckpt, "--dims", ReferencePython.WriteDims(dir.FullName, o),
                "--input", input, "--output", outPath);
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
