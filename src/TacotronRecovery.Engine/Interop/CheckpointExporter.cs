using System.Collections;
using System.Reflection;
using System.Text.Json;
using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Runs;
using TacotronRecovery.Engine.Checkpoints;
using TacotronRecovery.Engine.Model;
using TacotronRecovery.Engine.Training;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Interop;

/// <summary>What an export produced.</summary>
/// <param name="Path">The file written.</param>
/// <param name="Source">The .ckpt read.</param>
/// <param name="Step">The checkpoint's step (the file's <c>iteration</c>).</param>
/// <param name="Model">Model dimensions.</param>
/// <param name="Tensors">Tensors in the state dict.</param>
/// <param name="Layout"><c>train.py</c> (the dict NVIDIA's train.py saves and reads) or <c>state_dict</c>.</param>
/// <param name="LearningRate">The <c>learning_rate</c> written (train.py layout): the optimizer's, else 1e-3.</param>
/// <param name="OptimizerCarried">True when the checkpoint's Adam state was written as the file's <c>optimizer</c>.</param>
public sealed record ExportResult(string Path, string Source, int Step, ModelOptions Model, int Tensors,
    string Layout = CheckpointExporter.TrainPy, double LearningRate = CheckpointExporter.DefaultLearningRate, bool OptimizerCarried = false);

/// <summary>
/// Writes one of our checkpoints as a PyTorch file (the zip container PyTorch ≥ 1.6 reads, fp32 tensors with the
/// reference's keys). Layout <see cref="TrainPy"/> (default): NVIDIA train.py's dict <c>{iteration, state_dict,
/// optimizer, learning_rate}</c>, which <c>train.py -c</c> resumes (iteration, Adam state, learning rate);
/// <see cref="StateDict"/>: the bare state dict (<c>load_state_dict(torch.load(path), strict=True)</c>).
/// </summary>
public static class CheckpointExporter
{
    /// <summary>NVIDIA train.py's checkpoint dict.</summary>
    public const string TrainPy = "train.py";
    /// <summary>A bare state dict.</summary>
    public const string StateDict = "state_dict";
    /// <summary>NVIDIA's hparams learning rate, written when the checkpoint has no optimizer.</summary>
    public const double DefaultLearningRate = 1e-3;

    /// <summary>Exports <paramref name="checkpoint"/> (.ckpt) to <paramref name="destination"/> (written atomically).</summary>
    public static ExportResult Export(string checkpoint, string destination, string layout = TrainPy)
    {
        if (layout is not (TrainPy or StateDict)) throw new ArgumentException($"layout '{layout}' is not {TrainPy} or {StateDict}", nameof(layout));
        checkpoint = System.IO.Path.GetFullPath(checkpoint);
        var loaded = CheckpointFile.Read(checkpoint);
        var options = loaded.Meta["model"]?.Deserialize<ModelOptions>(RunJson.Options)
            ?? throw new CheckpointCorruptException(checkpoint, "its metadata has no model dimensions");
        using var model = new Tacotron2("tacotron2", options);
        loaded.ApplyTo(model);
        int step = loaded.Meta["step"]?.GetValue<int>() ?? 0;
        destination = System.IO.Path.GetFullPath(destination);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(destination)!);
        var temp = destination + ".tmp-" + Environment.ProcessId;
        double lr = DefaultLearningRate;
        bool carried = false;
        using (var fs = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            if (layout == StateDict)
            {
                model.save_py(fs, leaveOpen: true);
            }
            else
            {
                var parameters = model.parameters().ToArray();
                using var adam = LoadAdam(loaded, parameters, out carried);
                var optimizer = AdamToPyTorch(adam, parameters.Length, out lr);
                var stateDict = new Hashtable();
                foreach (var (name, tensor) in model.state_dict()) stateDict[name] = tensor;
                Pickle(fs, new Hashtable
                {
                    ["iteration"] = (long)step,
                    ["state_dict"] = stateDict,
                    ["optimizer"] = optimizer,
                    ["learning_rate"] = lr,
                });
            }
            fs.Flush(flushToDisk: true);
        }
        File.Move(temp, destination, overwrite: true);
        return new ExportResult(destination, checkpoint, step, options, model.state_dict().Count, layout, lr, carried);
    }

    /// <summary>An Adam over <paramref name="parameters"/> with the checkpoint's state (a fresh one when it has none or it does not load).</summary>
    private static TorchSharp.Modules.Adam LoadAdam(LoadedCheckpoint loaded, Parameter[] parameters, out bool carried)
    {
        var adam = (TorchSharp.Modules.Adam)Optimizers.Create("adam", parameters, DefaultLearningRate, 1e-6);
        carried = false;
        try
        {
            carried = loaded.ApplyTo(adam);
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or InvalidOperationException or ArgumentException or InvalidCastException)
        {
            // Not an Adam state (AdamW or damaged): PyTorch resumes with a fresh Adam, as from a bare state dict.
            adam.Dispose();
            adam = (TorchSharp.Modules.Adam)Optimizers.Create("adam", parameters, DefaultLearningRate, 1e-6);
        }
        return adam;
    }

    /// <summary>
    /// torch.optim.Adam's state dict as PyTorch 1.13 writes it: <c>{state: {i: {step (float tensor), exp_avg,
    /// exp_avg_sq[, max_exp_avg_sq]}}, param_groups: [{lr, betas, eps, weight_decay, amsgrad, maximize, …, params}]}</c>;
    /// parameters never stepped have no state.
    /// </summary>
    private static Hashtable AdamToPyTorch(TorchSharp.Modules.Adam adam, int count, out double lr)
    {
        var sd = adam.state_dict();
        var o = (TorchSharp.Modules.Adam.Options)sd.Options[0];
        lr = o.LearningRate ?? DefaultLearningRate;
        var state = new Hashtable();
        for (int i = 0; i < sd.State.Count; i++)
        {
            var s = (TorchSharp.Modules.Adam.State)sd.State[i];
            if (s.step <= 0) continue;
            var entry = new Hashtable
            {
                ["step"] = torch.tensor((float)s.step),
                ["exp_avg"] = s.exp_avg,
                ["exp_avg_sq"] = s.exp_avg_sq,
            };
            if (o.amsgrad == true && s.max_exp_avg_sq is not null) entry["max_exp_avg_sq"] = s.max_exp_avg_sq;
            state[(long)i] = entry;
        }
        var group = new Hashtable
        {
            ["lr"] = lr,
            ["betas"] = new object[] { o.beta1 ?? 0.9, o.beta2 ?? 0.999 },
            ["eps"] = o.eps ?? 1e-8,
            ["weight_decay"] = o.weight_decay ?? 0.0,
            ["amsgrad"] = o.amsgrad ?? false,
            ["maximize"] = o.maximize ?? false,
            ["foreach"] = null,
            ["capturable"] = false,
            ["differentiable"] = false,
            ["fused"] = false,
            ["params"] = new ArrayList(Enumerable.Range(0, count).Select(i => (object)(long)i).ToList()),
        };
        return new Hashtable { ["state"] = state, ["param_groups"] = new ArrayList { group } };
    }

    /// <summary>
    /// torch.save of a dict with nested dicts, lists, tuples, numbers and tensors, through TorchSharp.PyBridge's
    /// pickler (internal in 1.4.4; its public save_py writes only a module's or an optimizer's own state dict).
    /// </summary>
    private static void Pickle(Stream stream, Hashtable dict)
    {
        var pickler = typeof(PyBridgeModuleExtensions).Assembly.GetType("TorchSharp.PyBridge.PyTorchPickler")
            ?.GetMethod("PickleStateDict", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic, [typeof(Stream), typeof(Hashtable), typeof(bool)])
            ?? throw new InvalidOperationException("TorchSharp.PyBridge has no PyTorchPickler.PickleStateDict(Stream, Hashtable, bool); the train.py layout needs PyBridge 1.4.x");
        try
        {
            pickler.Invoke(null, [stream, dict, true]);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }
}
