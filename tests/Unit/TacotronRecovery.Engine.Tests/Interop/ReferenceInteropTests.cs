using TacotronRecovery.Core.Config;
using TacotronRecovery.Engine.Checkpoints;
using TacotronRecovery.Engine.Interop;
using TacotronRecovery.Engine.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Tests.Interop;

/// <summary>
/// Import and parity against the repository's PyTorch reference (tools/reference/tacotron2_reference.py, Debian's
/// python3-torch): NVIDIA-format files in every container and precision, the teacher-forced forward and every gradient
/// on identical inputs, and our export loaded back strictly. Skipped with the reason where python3 lacks torch.
/// </summary>
[Collection("torch")]
[Trait("Category", "PyTorch")]
public sealed class ReferenceInteropTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("tacotron-reference-");
    private static readonly ModelOptions Dims = CheckpointImportTests.Tiny();

    public void Dispose() => _dir.Delete(recursive: true);

    private string File(string name) => Path.Combine(_dir.FullName, name);

    private string MakeReference(string name, bool legacy, bool fp16, int trainSteps = 2, ModelOptions? dims = null)
    {
        var path = File(name);
        var args = new List<string> { ReferencePython.Script, "random", "--dims", ReferencePython.WriteDims(_dir.FullName, dims ?? Dims), "--out", path,
            "--train-steps", trainSteps.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (legacy) args.Add("--legacy");
        if (fp16) args.Add("--fp16");
        ReferencePython.Run(args.ToArray());
        return path;
    }

    private string Python(string code, params string[] args)
    {
        var script = File("snippet.py");
        System.IO.File.WriteAllText(script, code);
        return ReferencePython.Run(new[] { script }.Concat(args).ToArray());
    }

    [PyTorchTheory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Import_ReferenceTrainPyFile_InfersDimsCarriesAdamAndKeepsWeights(bool legacy, bool fp16)
    {
        var source = MakeReference("ref.pt", legacy, fp16, trainSteps: 3);
        var result = CheckpointImporter.Import(source, File("imported.ckpt"));

        Assert.Equal(legacy ? TorchFileFormat.Legacy : TorchFileFormat.Zip, result.Format);
        Assert.Equal("train.py", result.Layout);
        Assert.Equal(3, result.Step);
        Assert.Equal(fp16, result.HalfPrecision);
        Assert.Equal(Dims, result.Model);
        Assert.True(result.OptimizerCarried, string.Join(" ", result.Warnings));

        // The weights PyTorch holds (as float) equal ours; the Adam moments and step equal PyTorch's.
        var dump = Python("""
            import sys, torch
            ck = torch.load(sys.argv[1], map_location='cpu')
            sd = ck['state_dict']
            w = sd['decoder.attention_rnn.weight_ih'].double()
            names = [k for k in sd if not k.endswith(('running_mean', 'running_var', 'num_batches_tracked'))]
            i = names.index('decoder.attention_rnn.weight_ih')
            st = ck['optimizer']['state'][i]
            print(repr(float(w.sum())), repr(float(w.abs().max())), int(st['step']), repr(float(st['exp_avg'].double().sum())), repr(float(st['exp_avg_sq'].double().sum())))
            """, source).Trim().Split(' ');
        var loaded = CheckpointFile.Read(result.Path);
        using var model = new Tacotron2("tacotron2", result.Model);
        loaded.ApplyTo(model);
        var parameters = model.named_parameters().ToList();
        var index = parameters.FindIndex(p => p.name == "decoder.attention_rnn.weight_ih");
        var weight = parameters[index].parameter;
        Assert.Equal(double.Parse(dump[0], System.Globalization.CultureInfo.InvariantCulture), weight.to_type(ScalarType.Float64).sum().item<double>(), 10);
        Assert.Equal(double.Parse(dump[1], System.Globalization.CultureInfo.InvariantCulture), weight.abs().max().item<float>(), 7);

        var adam = torch.optim.Adam(model.parameters(), 0.5);
        Assert.True(loaded.ApplyTo(adam));
        var state = (TorchSharp.Modules.Adam.State)adam.state_dict().State[index];
        Assert.Equal(long.Parse(dump[2], System.Globalization.CultureInfo.InvariantCulture), state.step);
        Assert.Equal(double.Parse(dump[3], System.Globalization.CultureInfo.InvariantCulture), state.exp_avg.to_type(ScalarType.Float64).sum().item<double>(), 12);
        Assert.Equal(double.Parse(dump[4], System.Globalization.CultureInfo.InvariantCulture), state.exp_avg_sq.to_type(ScalarType.Float64).sum().item<double>(), 15);
        Assert.Equal(1e-3, adam.state_dict().Options[0].LearningRate!.Value, 12);
        Assert.Equal(1e-6, ((TorchSharp.Modules.Adam.Options)adam.state_dict().Options[0]).weight_decay!.Value, 12);
    }

    [PyTorchFact]
    public void Import_CarriedAdamState_NextStepEqualsPyTorchsNextStep()
    {
        var source = MakeReference("ref.pt", legacy: false, fp16: false, trainSteps: 4);
        var stepped = File("stepped.pt");
        Python($$"""
            import json, torch
            {{ReferencePython.ImportReference}}
            ck = torch.load(sys.argv[1])
            m = R.Tacotron2(dict(R.NVIDIA, **json.load(open(sys.argv[2]))))
            m.load_state_dict(ck['state_dict'])
            opt = torch.optim.Adam(m.parameters(), lr=0.5)
            opt.load_state_dict(ck['optimizer'])
            opt.zero_grad()
            sum((p * 0.01).sum() for p in m.parameters()).backward()
            opt.step()
            torch.save(m.state_dict(), sys.argv[3])
            """, source, ReferencePython.WriteDims(_dir.FullName, Dims), stepped);

        var imported = CheckpointImporter.Import(source, File("imported.ckpt"));
        var loaded = CheckpointFile.Read(imported.Path);
        using var model = new Tacotron2("tacotron2", imported.Model);
        loaded.ApplyTo(model);
        var adam = torch.optim.Adam(model.parameters(), 0.5); // as the trainer: its own lr, replaced by the checkpoint's
        Assert.True(loaded.ApplyTo(adam));
        adam.zero_grad();
        var loss = model.parameters().Select(p => p.mul(0.01).sum()).Aggregate((a, b) => a.add(b));
        loss.backward();
        adam.step();

        using var expected = PyTorchCheckpoint.Read(stepped);
        float worst = 0;
        foreach (var (name, p) in model.named_parameters())
            worst = Math.Max(worst, expected.StateDict[name].sub(p.detach()).abs().max().item<float>());
        Assert.True(worst < 1e-6f, $"max abs difference after one carried Adam step: {worst}");
        using var fresh = new Tacotron2("tacotron2", imported.Model);
        CheckpointFile.Read(imported.Path).ApplyTo(fresh);
        var moved = model.named_parameters().Max(np => np.parameter.detach().sub(fresh.named_parameters().First(f => f.name == np.name).parameter).abs().max().item<float>());
        Assert.True(moved > 1e-4f, $"the step moved the weights by at most {moved}");
    }

    [PyTorchTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void Import_ReferenceBareStateDict_ImportsWithoutOptimizer(bool legacy)
    {
        var source = MakeReference("ref.pt", legacy: false, fp16: false);
        var bare = File("bare.pt");
        Python("""
            import sys, torch
            torch.save(torch.load(sys.argv[1])['state_dict'], sys.argv[2], _use_new_zipfile_serialization=sys.argv[3] == 'zip')
            """, source, bare, legacy ? "legacy" : "zip");
        var result = CheckpointImporter.Import(bare, File("bare.ckpt"));
        Assert.Equal("state_dict", result.Layout);
        Assert.Equal(0, result.Step);
        Assert.False(result.OptimizerCarried);
        Assert.Empty(result.Warnings);
        Assert.Equal(Dims, result.Model);
        Assert.Null(CheckpointFile.Read(result.Path).Optimizer);
    }

    [PyTorchTheory]
    [InlineData(0.3)]
    [InlineData(0.97)]
    public void Read_TruncatedLegacyFile_IsCheckpointCorrupt(double keep)
    {
        var bytes = System.IO.File.ReadAllBytes(MakeReference("legacy.pt", legacy: true, fp16: false));
        System.IO.File.WriteAllBytes(File("cut.pt"), bytes[..(int)(bytes.Length * keep)]);
        var e = Assert.Throws<InteropException>(() => CheckpointImporter.Import(File("cut.pt"), File("cut.ckpt")));
        Assert.Equal("CheckpointCorrupt", e.ErrorId);
        Assert.False(System.IO.File.Exists(File("cut.ckpt")));
    }

    [PyTorchFact]
    public void ParameterOrder_EqualsReferenceModelParameters()
    {
        var output = Python($$"""
            import json
            {{ReferencePython.ImportReference}}
            m = R.Tacotron2(dict(R.NVIDIA, **json.load(open(sys.argv[1]))))
            print('\n'.join(n for n, _ in m.named_parameters()))
            """, ReferencePython.WriteDims(_dir.FullName, Dims));
        using var model = new Tacotron2("tacotron2", Dims);
        Assert.Equal(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            model.named_parameters().Select(p => p.name).ToArray());
    }

    [PyTorchFact]
    public void Import_ShapeMismatchAndExtraKey_ErrorListsKeysAndShapes()
    {
        var source = MakeReference("ref.pt", legacy: false, fp16: false);
        var bad = File("bad.pt");
        Python("""
            import sys, torch
            ck = torch.load(sys.argv[1])
            sd = ck['state_dict']
            sd['decoder.gate_layer.linear_layer.weight'] = torch.zeros(1, 3)
            sd['speaker_embedding.weight'] = torch.zeros(4, 2)
            torch.save(ck, sys.argv[2])
            """, source, bad);
        var e = Assert.Throws<InteropException>(() => CheckpointImporter.Import(bad, File("bad.ckpt")));
        Assert.Equal("CheckpointInvalid", e.ErrorId);
        Assert.Contains("shape of decoder.gate_layer.linear_layer.weight: file [1, 3], model [1, 40]", e.Message, StringComparison.Ordinal);
        Assert.Contains("unexpected speaker_embedding.weight [4, 2]", e.Message, StringComparison.Ordinal);

        // The reference's warm start: ignoring both makes it importable.
        var ok = CheckpointImporter.Import(bad, File("ok.ckpt"),
            new ImportOptions { IgnoreLayers = new[] { "decoder.gate_layer", "speaker_embedding" } });
        Assert.Equal(new[] { "decoder.gate_layer.linear_layer.weight", "decoder.gate_layer.linear_layer.bias" }, ok.IgnoredKeys);
    }

    [PyTorchFact]
    public void Import_ReferenceWithTwoFramesPerStep_ExplainsThePrenetDifference()
    {
        // The reference trains only with r = 1 (NVIDIA's gate mask is per frame): an untrained r = 2 file.
        var source = MakeReference("r2.pt", legacy: false, fp16: false, trainSteps: 0, dims: Dims with { NFramesPerStep = 2 });
        var e = Assert.Throws<InteropException>(() => CheckpointImporter.Import(source, File("r2.ckpt")));
        Assert.Contains("shape of decoder.prenet.layers.0.linear_layer.weight: file [8, 10], model [8, 5]", e.Message, StringComparison.Ordinal);
        Assert.Contains("-IgnoreLayers decoder.prenet", e.Message, StringComparison.Ordinal);
        var ok = CheckpointImporter.Import(source, File("r2.ckpt"), new ImportOptions { IgnoreLayers = new[] { "decoder.prenet" } });
        Assert.Equal(2, ok.Model.NFramesPerStep);
    }

    [PyTorchTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_SameInputs_MatchesReferenceForwardWithin1e4(bool fp16)
    {
        var source = MakeReference("ref.pt", legacy: false, fp16: fp16);
        var imported = CheckpointImporter.Import(source, File("imported.ckpt"));
        var input = WriteInput(File("in.npz"), textLengths: new[] { 9, 9 }, melLengths: new[] { 14, 10 });
        ReferencePython.Run(ReferencePython.Script, "forward", "--checkpoint", source, "--dims", ReferencePython.WriteDims(_dir.FullName, Dims),
            "--input", input, "--output", File("reference.npz"));

        var result = ParityForward.Run(imported.Path, input, File("ours.npz"));

        var reference = Npz.Read(File("reference.npz"));
        var ours = Npz.Read(result.Path);
        Assert.Equal(reference.Keys.Order(StringComparer.Ordinal), ours.Keys.Order(StringComparer.Ordinal));
        foreach (var key in reference.Keys)
        {
            Assert.Equal(reference[key].shape, ours[key].shape);
            var diff = reference[key].sub(ours[key]).abs();
            // The reference's postnet convolves its unmasked decoder frames beyond a mel length (ours sees zeros):
            // after the postnet only the unpadded utterance 0 is comparable.
            if (key == "mel_outputs_postnet") diff = diff[0];
            var worst = diff.max().item<float>();
            Assert.True(worst < 1e-4f, $"{key}: max abs difference {worst}");
        }
    }

    [PyTorchFact]
    public void Backward_SameWeightsAndInputs_EveryGradientMatchesPyTorch()
    {
        // No padding: beyond a length the reference's encoder convolves the pad symbol's embedding and its postnet the
        // unmasked decoder frames, where ours sees zeros (masking invariance); the forward test shows the same.
        var source = MakeReference("ref.pt", legacy: false, fp16: false);
        var imported = CheckpointImporter.Import(source, File("imported.ckpt"));
        var input = WriteInput(File("in.npz"), textLengths: new[] { 9, 9 }, melLengths: new[] { 12, 12 });
        var arrays = Npz.Read(input);
        var g = new Generator(21);
        long b = 2, m = Dims.NMelChannels, t = 12, n = 9;
        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["w_mel"] = randn(new[] { b, m, t }, generator: g),
            ["w_post"] = randn(new[] { b, m, t }, generator: g),
            ["w_gate"] = randn(new[] { b, t }, generator: g),
            ["w_align"] = randn(new[] { b, t, n }, generator: g),
        };
        Npz.Write(File("weights.npz"), weights);
        // A linear functional of every output, so that each gradient is compared, not a loss's normalisation.
        Python($$"""
            import numpy as np, torch
            {{ReferencePython.ImportReference}}
            h = R.load_dims(sys.argv[2])
            model = R.Tacotron2(h)
            sd = {k: v.float() if v.is_floating_point() else v for k, v in R.state_dict_of(torch.load(sys.argv[1], map_location='cpu')).items()}
            model.load_state_dict(sd, strict=True)
            model.eval(); model.decoder.prenet.always_dropout = False
            d = np.load(sys.argv[3]); w = {k: torch.from_numpy(v) for k, v in np.load(sys.argv[4]).items()}
            _, m, post, gate, align = model(torch.from_numpy(d['text']).long(), torch.from_numpy(d['input_lengths']).long(),
                                            torch.from_numpy(d['mel']).float(), torch.from_numpy(d['output_lengths']).long())
            ((m * w['w_mel']).sum() + (post * w['w_post']).sum() + (gate * w['w_gate']).sum() + (align * w['w_align']).sum()).backward()
            np.savez(sys.argv[5], **{k: p.grad.numpy() for k, p in model.named_parameters()})
            """, source, ReferencePython.WriteDims(_dir.FullName, Dims), input, File("weights.npz"), File("grads.npz"));

        using var model = ParityForward.Load(imported.Path);
        model.eval();
        var y = model.Forward(arrays["text"].to_type(ScalarType.Int64), arrays["input_lengths"].to_type(ScalarType.Int64),
            arrays["mel"].to_type(ScalarType.Float32), arrays["output_lengths"].to_type(ScalarType.Int64));
        (y.MelOutputs.mul(weights["w_mel"]).sum() + y.MelOutputsPostnet.mul(weights["w_post"]).sum()
            + y.GateOutputs.mul(weights["w_gate"]).sum() + y.Alignments.mul(weights["w_align"]).sum()).backward();

        var reference = Npz.Read(File("grads.npz"));
        var ours = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!, StringComparer.Ordinal);
        Assert.Equal(reference.Keys.Order(StringComparer.Ordinal), ours.Keys.Order(StringComparer.Ordinal));
        var failures = new List<string>();
        foreach (var (name, expected) in reference)
        {
            var scale = expected.abs().max().item<float>();
            var worst = expected.sub(ours[name]).abs().max().item<float>();
            if (!(worst <= 1e-4f * Math.Max(1f, scale))) failures.Add($"{name}: max abs difference {worst} (largest gradient {scale})");
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [PyTorchFact]
    public void Export_OurCheckpoint_ReferenceLoadsStrictlyAndForwardMatches()
    {
        var source = MakeReference("ref.pt", legacy: true, fp16: false);
        var imported = CheckpointImporter.Import(source, File("imported.ckpt"));
        var exported = CheckpointExporter.Export(imported.Path, File("exported.pt"));
        var input = WriteInput(File("in.npz"), textLengths: new[] { 7 }, melLengths: new[] { 12 });
        // The reference's forward loads with load_state_dict(strict=True).
        ReferencePython.Run(ReferencePython.Script, "forward", "--checkpoint", exported.Path, "--dims", ReferencePython.WriteDims(_dir.FullName, Dims),
            "--input", input, "--output", File("reference.npz"));
        ParityForward.Run(exported.Path, input, File("ours.npz"));
        var reference = Npz.Read(File("reference.npz"));
        var ours = Npz.Read(File("ours.npz"));
        foreach (var key in reference.Keys)
            Assert.True(reference[key].sub(ours[key]).abs().max().item<float>() < 1e-4f, key);
    }

    private static string WriteInput(string path, int[] textLengths, int[] melLengths)
    {
        var g = new Random(17);
        int b = textLengths.Length, n = textLengths.Max(), t = melLengths.Max(), m = Dims.NMelChannels;
        var text = new long[b * n];
        var mel = new float[b * m * t];
        for (int i = 0; i < b; i++)
        {
            for (int j = 0; j < textLengths[i]; j++) text[i * n + j] = g.Next(1, Dims.NSymbols);
            for (int c = 0; c < m; c++)
                for (int f = 0; f < melLengths[i]; f++) mel[(i * m + c) * t + f] = (float)(g.NextDouble() * 2 - 4);
        }
        Npz.Write(path, new Dictionary<string, Tensor>
        {
            ["text"] = tensor(text, new long[] { b, n }),
            ["input_lengths"] = tensor(textLengths.Select(x => (long)x).ToArray()),
            ["mel"] = tensor(mel, new long[] { b, m, t }),
            ["output_lengths"] = tensor(melLengths.Select(x => (long)x).ToArray()),
        });
        return path;
    }
}
