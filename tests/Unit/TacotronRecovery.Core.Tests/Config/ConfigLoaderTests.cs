using System.Runtime.CompilerServices;
using TacotronRecovery.Core.Alerts;
using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Core.Tests.Config;

public sealed class ConfigLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tacotron-config-").FullName;

    private static string RepoRoot([CallerFilePath] string source = "")
    {
        var dir = Path.GetDirectoryName(source);
        while (dir is not null && !File.Exists(Path.Combine(dir, "TacotronRecovery.slnx"))) dir = Path.GetDirectoryName(dir);
        return dir ?? throw new InvalidOperationException("repository root not found");
    }

    private static ConfigException Fails(string yaml, Func<string, string?>? env = null) =>
        Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "voice.yaml", env ?? (_ => null)));

    [Fact]
    public void Load_SampleConfig_EqualsDefaults()
    {
        var loaded = ConfigLoader.Load(Path.Combine(RepoRoot(), "samples", "config.yaml"), _ => null);
        Assert.Equal(new TacotronConfig(), loaded);
    }

    [Fact]
    public void Load_SampleConfig_MentionsEveryKey()
    {
        var text = File.ReadAllText(Path.Combine(RepoRoot(), "samples", "config.yaml"));
        var yaml = ConfigWriter.ToRedactedYaml(new TacotronConfig());
        foreach (var line in yaml.Split('\n').Where(l => l.Contains(':') && !l.StartsWith('#')))
        {
            var key = line.Trim().Split(':')[0];
            Assert.Matches($@"(?m)^\s*{key}:", text);
        }
    }

    [Fact]
    public void Parse_UnknownKey_NamesFileLineColumnAndSuggestion()
    {
        var e = Fails("training:\n  batch_size: 8\n  lerning_rate: 0.001\n");
        Assert.Equal("voice.yaml:3:3: training.lerning_rate: unknown key (did you mean learning_rate?)", e.Message);
        Assert.Equal((3, 3, "training.lerning_rate", "ConfigInvalid"), (e.Line, e.Column, e.KeyPath, e.ErrorId));
    }

    [Fact]
    public void Parse_RecordedNotConfigurable_IsUnknownAndNotWritten()
    {
        // model.trained_gate_pos_weight is recorded in checkpoints from training.gate_pos_weight, never set by hand.
        var e = Fails("model:\n  trained_gate_pos_weight: 5\n");
        Assert.StartsWith("voice.yaml:2:3: model.trained_gate_pos_weight: unknown key", e.Message);
        var yaml = ConfigWriter.ToRedactedYaml(new TacotronConfig { Model = new ModelOptions { TrainedGatePosWeight = 5 } });
        Assert.DoesNotContain("trained_gate_pos_weight", yaml);
    }

    [Theory]
    [InlineData(0.5, 1.0, 0.0)]
    [InlineData(0.5, 5.0, 1.6094379124341003)]   // ln 5: the raw sigmoid must reach 5/6
    [InlineData(0.8, 1.0, 1.3862943611198906)]   // logit(0.8) = ln 4
    public void GateStopLogit_UndoesThePosWeightBias(double threshold, double posWeight, double expected)
    {
        var o = new ModelOptions { GateThreshold = threshold, TrainedGatePosWeight = posWeight };
        Assert.Equal(expected, o.GateStopLogit(), 12);
        // At the stop logit, the corrected probability sigmoid(logit − ln w) is exactly the threshold.
        Assert.Equal(threshold, 1 / (1 + Math.Exp(-(o.GateStopLogit() - Math.Log(posWeight)))), 12);
    }

    [Fact]
    public void Parse_UnknownSection_ListsNoSuggestionWhenFar()
    {
        var e = Fails("wandb:\n  project: x\n");
        Assert.StartsWith("voice.yaml:1:1: wandb: unknown key (known keys: name, runs_root, data, model, training, guided_attention, recovery, health, telegram, faults)", e.Message);
    }

    [Fact]
    public void Parse_WrongType_NamesValuePosition()
    {
        var e = Fails("training:\n  batch_size: sixteen\n");
        Assert.Equal("voice.yaml:2:15: training.batch_size: expected an integer, got 'sixteen'", e.Message);
    }

    [Theory]
    [InlineData("training:\n  learning_rate: [1, 2]\n", "voice.yaml:2:18: training.learning_rate: expected a number, got a list")]
    [InlineData("training: 5\n", "voice.yaml:1:11: training: expected a mapping (section), got '5'")]
    [InlineData("telegram:\n  enabled: yes please\n", "voice.yaml:2:12: telegram.enabled: expected true or false, got 'yes please'")]
    [InlineData("data:\n  unknown_characters: ignore\n", "voice.yaml:2:23: data.unknown_characters: expected one of error, drop, got 'ignore'")]
    [InlineData("training:\n  batch_size: ~\n", "voice.yaml:2:15: training.batch_size: expected an integer, got null (this key has no empty value; remove it to use the default)")]
    [InlineData("training:\n  learning_rate: .nan\n", "voice.yaml:2:18: training.learning_rate: expected a finite number, got '.nan'")]
    public void Parse_BadValues_ExactMessages(string yaml, string message) => Assert.Equal(message, Fails(yaml).Message);

    [Fact]
    public void Parse_DuplicateKey_NamesBothLines()
    {
        var e = Fails("training:\n  batch_size: 8\n  batch_size: 16\n");
        Assert.Equal("voice.yaml:3:3: training.batch_size: duplicate key (first defined at line 2)", e.Message);
    }

    [Fact]
    public void Parse_MalformedYaml_HasLocation()
    {
        var e = Fails("training:\n  batch_size: [8\n");
        Assert.StartsWith("voice.yaml:", e.Message);
        Assert.Contains("not valid YAML", e.Message);
        Assert.True(e.Line >= 2);
    }

    [Fact]
    public void Parse_MissingEnvironmentVariable_NamesKeyAndVariable()
    {
        var e = Fails("telegram:\n  bot_token: ${TACOTRON_TEST_TOKEN}\n");
        Assert.Equal("voice.yaml:2:14: telegram.bot_token: environment variable TACOTRON_TEST_TOKEN is not set (set it, or write ${TACOTRON_TEST_TOKEN:-default})", e.Message);
    }

    [Fact]
    public void Parse_EnvironmentReferences_ExpandedPerValue()
    {
        var env = new Dictionary<string, string> { ["BATCH"] = "24", ["ROOT"] = "/data", ["EMPTY"] = "" };
        var c = ConfigLoader.Parse(
            "runs_root: ${ROOT}/runs\ntraining:\n  batch_size: ${BATCH}\n  learning_rate: ${LR:-0.0005}\n  device: ${EMPTY:-cpu}\n",
            "voice.yaml", n => env.GetValueOrDefault(n));
        Assert.Equal("/data/runs", c.RunsRoot);
        Assert.Equal(24, c.Training.BatchSize);
        Assert.Equal(0.0005, c.Training.LearningRate);
        Assert.Equal("cpu", c.Training.Device);
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("telegram:\n  chat_id: \"$${literal}\"\n", "v.yaml", _ => null));
        Assert.Equal("telegram.chat_id", e.KeyPath); // "${literal}" is no chat id: the literal survived expansion and reached validation
    }

    [Fact]
    public void Parse_Preset_IsStartingPointAndKeysOverride()
    {
        var c = ConfigLoader.Parse("model:\n  attention_rnn_dim: 300\n  preset: small\n", "voice.yaml", _ => null);
        Assert.Equal(ModelOptions.ForPreset("small") with { AttentionRnnDim = 300 }, c.Model);
        Assert.Equal(512, c.Model.DecoderRnnDim);
        Assert.Equal(ModelOptions.ForPreset("demo"), ConfigLoader.Parse("model:\n  preset: ${P:-demo}\n", "voice.yaml", _ => null).Model);
    }

    [Theory]
    [InlineData("model:\n  preset: huge\n", "voice.yaml:2:11: model.preset: unknown preset 'huge' (expected nvidia, small, demo)")]
    [InlineData("training:\n  batch_size: 0\n", "voice.yaml:2:3: training.batch_size: must be ≥ 1 (got 0)")]
    [InlineData("training:\n  learning_rate: 0\n", "voice.yaml:2:3: training.learning_rate: must be > 0 (got 0)")]
    [InlineData("training:\n  optimizer: sgd\n", "voice.yaml:2:3: training.optimizer: must be one of adam, adamw (got 'sgd')")]
    [InlineData("training:\n  lr_schedule: cosine\n", "voice.yaml:2:3: training.lr_schedule: must be one of constant, warmup_decay (got 'cosine')")]
    [InlineData("training:\n  device: gpu\n", "voice.yaml:2:3: training.device: must be auto, cpu, cuda or cuda:N (got 'gpu')")]
    [InlineData("model:\n  n_mel_channels: 64\n", "voice.yaml:2:3: model.n_mel_channels: must equal data.n_mel_channels (80) (got 64)")]
    [InlineData("model:\n  prenet_dropout: 1.5\n", "voice.yaml:2:3: model.prenet_dropout: must be in [0, 1) (got 1.5)")]
    [InlineData("recovery:\n  critical_diagonality: 2\n", "voice.yaml:2:3: recovery.critical_diagonality: must be in [0, 1] (got 2)")]
    [InlineData("faults:\n  nan_loss_component: postnet\n", "voice.yaml:2:3: faults.nan_loss_component: must be one of mel, mel_postnet, gate, guided_attention, mmi (got 'postnet')")]
    [InlineData("faults:\n  nan_loss_component: mmi\n", "voice.yaml:2:3: faults.nan_loss_component: mmi needs training.mmi: true")]
    [InlineData("training:\n  mmi_weight: 0\n", "voice.yaml:2:3: training.mmi_weight: must be > 0 and finite (got 0)")]
    [InlineData("training:\n  mmi_frame_dropout: 1.5\n", "voice.yaml:2:3: training.mmi_frame_dropout: must be in [0, 1] (got 1.5)")]
    [InlineData("telegram:\n  parse_mode: Markdown\n", "voice.yaml:2:3: telegram.parse_mode: only HTML is supported (got 'Markdown')")]
    public void Parse_OutOfRange_NamesKey(string yaml, string message) => Assert.StartsWith(message, Fails(yaml).Message);

    [Theory]
    [InlineData("health:\n  loss_spike_factor: 3\n", "voice.yaml:2:3: health.loss_spike_factor: moved to recovery.spike_factor")]
    [InlineData("health:\n  attention_warmup_steps: 20\n", "voice.yaml:2:3: health.attention_warmup_steps: moved to recovery.attention_warmup_steps")]
    [InlineData("health:\n  collapse_diagonality: 0.2\n", "voice.yaml:2:3: health.collapse_diagonality: moved to recovery.critical_diagonality")]
    public void Parse_MovedHealthKey_NamesTheRecoveryKey(string yaml, string message) => Assert.StartsWith(message, Fails(yaml).Message);

    [Fact]
    public void Parse_MmiKeys_Bound()
    {
        var t = ConfigLoader.Parse("training:\n  mmi: true\n  mmi_weight: 0.25\n  mmi_frame_dropout: 0\nfaults:\n  nan_loss_component: mmi\n", "v.yaml", _ => null).Training;
        Assert.True(t.Mmi);
        Assert.Equal(0.25, t.MmiWeight);
        Assert.Equal(0, t.MmiFrameDropout);
    }

    [Fact]
    public void Parse_DeviceCudaN_Accepted()
    {
        Assert.Equal("cuda:1", ConfigLoader.Parse("training:\n  device: cuda:1\n", "v.yaml", _ => null).Training.Device);
    }

    [Fact]
    public void Parse_EmptyFileOrEmptySection_Defaults()
    {
        Assert.Equal(new TacotronConfig(), ConfigLoader.Parse("", "v.yaml", _ => null));
        Assert.Equal(new TacotronConfig(), ConfigLoader.Parse("# only a comment\ntraining:\n", "v.yaml", _ => null));
    }

    [Fact]
    public void Load_MissingFile_ConfigNotFound()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Path.Combine(_dir, "nope.yaml")));
        Assert.Equal("ConfigNotFound", e.ErrorId);
        Assert.StartsWith("nope.yaml: config file not found: ", e.Message);
    }

    [Fact]
    public void Load_RelativeDataPaths_ResolvedAgainstConfigFolder()
    {
        var path = Path.Combine(_dir, "voice.yaml");
        File.WriteAllText(path, "data:\n  path: LJSpeech\n  train_filelist: /abs/train.txt\n");
        var c = ConfigLoader.Load(path, _ => null);
        Assert.Equal(Path.Combine(_dir, "LJSpeech"), c.Data.Path);
        Assert.Equal("/abs/train.txt", c.Data.TrainFilelist);
        Assert.Equal("voice", ConfigLoader.RunNameFor(c, path));
        Assert.Equal(new TacotronConfig(), ConfigLoader.LoadOrDefault(null));
    }

    [Fact]
    public void Validated_OverrideOutOfRange_ThrowsWithoutLocation()
    {
        var config = new TacotronConfig();
        var ok = ConfigValidator.Validated(config with { Training = config.Training with { MaxSteps = 10 } });
        Assert.Equal(10, ok.Training.MaxSteps);
        var e = Assert.Throws<ConfigException>(() => ConfigValidator.Validated(config with { Training = config.Training with { BatchSize = 0 } }));
        Assert.Equal("config: training.batch_size: must be ≥ 1 (got 0)", e.Message);
        Assert.Equal(0, e.Line);
    }

    [Fact]
    public void WriteRedacted_RoundTrip_EqualsExceptToken()
    {
        var config = ConfigLoader.Parse(
            "name: voice\nmodel:\n  preset: demo\ntraining:\n  learning_rate: 2.5e-4\n  batch_size: 12\ndata:\n  unknown_characters: drop\n  path: \"/d/with \\\"quotes\\\" and $${X}\"\ntelegram:\n  enabled: true\n  chat_id: \"-100123\"\n  bot_token: ${T}\nfaults:\n  kill_at_step: 7\n",
            "voice.yaml", n => n == "T" ? "123456:TEST-token-abcdefghijklmnopqrstuvwxyz" : null);
        Assert.Equal("/d/with \"quotes\" and ${X}", config.Data.Path);
        var path = Path.Combine(_dir, "run", "config.yaml");
        ConfigWriter.WriteRedacted(config, path);
        var text = File.ReadAllText(path);
        Assert.DoesNotContain("TEST-token", text);
        Assert.Contains("  bot_token: \"***\"\n", text);
        Assert.Contains("  tensor_board: true\n", text);
        var reloaded = ConfigLoader.Parse(text, "config.yaml", _ => null);
        Assert.Equal(config with { Telegram = config.Telegram with { BotToken = "***" } }, reloaded);
        Assert.Null(TelegramTokenResolver.Resolve(reloaded.Telegram, _ => null));
        Assert.Equal("env-token", TelegramTokenResolver.Resolve(reloaded.Telegram, _ => "env-token"));
    }

    [Fact]
    public void TryExpand_Forms_Expected()
    {
        Func<string, string?> env = n => n == "A" ? "1" : null;
        Assert.True(EnvironmentExpansion.TryExpand("x${A}y${B:-2}z$${A}", env, out var s, out _));
        Assert.Equal("x1y2z${A}", s);
        Assert.False(EnvironmentExpansion.TryExpand("${A", env, out s, out var missing));
        Assert.Null(missing);
        Assert.Equal("unclosed '${' at character 1", s);
        Assert.False(EnvironmentExpansion.TryExpand("${B}", env, out _, out missing));
        Assert.Equal("B", missing);
        Assert.Equal("$${A}", EnvironmentExpansion.Escape("${A}"));
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
