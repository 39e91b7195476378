using System.Globalization;
using System.Text;
using TacotronRecovery.Core.Contract;
using TacotronRecovery.Core.Data;

namespace TacotronRecovery.Host.Verbs;

/// <summary>
/// <c>mels --dataset DIR|--config F --out DIR [--count N] [--split train|validation]</c>: the dataset's mels as
/// computed for training, one NumPy <c>&lt;id&gt;.npy</c> per utterance (float32 [n_mel, frames], C order), and
/// <c>filelist.txt</c> with one line <c>id|token ids separated by spaces|text</c> (NVIDIA's 148 symbol ids), so a
/// PyTorch script (tools/reference/train_reference.py) trains on exactly our features without audio code.
/// One JSON line <c>{"type":"mels","data":{…}}</c>.
/// </summary>
public static class MelsVerb
{
    /// <summary>Runs the verb.</summary>
    public static int Run(Arguments args)
    {
        var output = args.Get("out") ?? throw new UsageException("mels needs --out (the folder to write <id>.npy and filelist.txt to).");
        var config = RunSession.LoadConfig(args, out var configPath);
        int count = args.Int("count") ?? int.MaxValue;
        var split = args.Get("split") ?? "train";
        args.RejectUnknown();
        if (count <= 0) throw new UsageException("mels --count must be positive.");
        if (split is not ("train" or "validation")) throw new UsageException($"mels --split '{split}' is not supported (train or validation).");
        if (string.IsNullOrWhiteSpace(config.Data.Path) && string.IsNullOrWhiteSpace(config.Data.TrainFilelist))
            throw new UsageException("mels needs --dataset (an LJSpeech folder) or --config with a data section.");
        TacotronDataset dataset;
        try
        {
            dataset = TacotronDataset.Load(config.Data, configPath is null ? null : Path.GetDirectoryName(Path.GetFullPath(configPath)));
        }
        catch (Exception e) when (e is DatasetNotFoundException or ArgumentException or DirectoryNotFoundException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.BadInput;
        }
        var rows = (split == "train" ? dataset.Train : dataset.Validation).Take(count).ToList();
        output = Path.GetFullPath(output);
        Directory.CreateDirectory(output);
        var list = new StringBuilder();
        foreach (var u in rows)
        {
            WriteNpy(Path.Combine(output, u.Id + ".npy"), u.Mel.Channels, u.Mel.Frames, u.Mel.Data);
            list.Append(u.Id).Append('|').AppendJoin(' ', u.TokenIds.Select(i => i.ToString(CultureInfo.InvariantCulture)))
                .Append('|').Append(u.Text.Replace('\n', ' ')).Append('\n');
        }
        var filelist = Path.Combine(output, "filelist.txt");
        File.WriteAllText(filelist, list.ToString(), new UTF8Encoding(false));
        EngineEnvelope.Write(Console.Out, EngineEnvelope.Mels, new
        {
            Folder = output, Filelist = filelist, Utterances = rows.Count, NMelChannels = config.Data.NMelChannels,
            Frames = rows.Sum(u => (long)u.Mel.Frames),
        });
        return ExitCodes.Ok;
    }

    /// <summary>A NumPy format 1.0 file: float32 little-endian, C order, [channels, frames].</summary>
    private static void WriteNpy(string path, int channels, int frames, float[] data)
    {
        var header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({channels}, {frames}), }}";
        header += new string(' ', (64 - (10 + header.Length + 1) % 64) % 64) + "\n";
        var temp = path + ".tmp-" + Environment.ProcessId;
        using (var fs = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            fs.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
            fs.Write(BitConverter.GetBytes((ushort)header.Length));
            fs.Write(Encoding.ASCII.GetBytes(header));
            var bytes = new byte[data.Length * 4];
            Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("mels writes little-endian .npy files only.");
            fs.Write(bytes);
        }
        File.Move(temp, path, overwrite: true);
    }
}
