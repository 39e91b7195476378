using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Core.Tests.Config;

public sealed class MixedPrecisionConfigTests
{
    private static TacotronConfig Parse(string value) => ConfigLoader.Parse($"training:\n  mixed_precision: {value}\n", "voice.yaml", _ => null);

    [Theory]
    [InlineData("off", MixedPrecisionMode.Off)]
    [InlineData("bf16", MixedPrecisionMode.Bf16)]
    [InlineData("fp16", MixedPrecisionMode.Fp16)]
    [InlineData("auto", MixedPrecisionMode.Auto)]
    [InlineData("BF16", MixedPrecisionMode.Bf16)]
    // Older configs: the key was a flag.
    [InlineData("true", MixedPrecisionMode.Auto)]
    [InlineData("True", MixedPrecisionMode.Auto)]
    [InlineData("false", MixedPrecisionMode.Off)]
    public void MixedPrecision_Values_Parse(string value, MixedPrecisionMode expected) =>
        Assert.Equal(expected, Parse(value).Training.MixedPrecision);

    [Fact]
    public void MixedPrecision_Default_Off() => Assert.Equal(MixedPrecisionMode.Off, new TacotronConfig().Training.MixedPrecision);

    [Theory]
    [InlineData("yes")]
    [InlineData("fp8")]
    [InlineData("1")]
    public void MixedPrecision_OtherValue_ErrorNamesKeyAndValues(string value)
    {
        var e = Assert.Throws<ConfigException>(() => Parse(value));
        Assert.Contains("voice.yaml:2:", e.Message);
        Assert.Contains("training.mixed_precision", e.Message);
        Assert.Contains("expected one of off, bf16, fp16, auto (true reads as auto, false reads as off)", e.Message);
        Assert.Contains($"got '{value}'", e.Message);
    }

    [Fact]
    public void MixedPrecision_WrittenConfig_ReadsBack()
    {
        var config = new TacotronConfig { Training = new TrainingOptions { MixedPrecision = MixedPrecisionMode.Bf16 } };
        var yaml = ConfigWriter.ToRedactedYaml(config);
        Assert.Contains("mixed_precision: bf16", yaml);
        Assert.Equal(MixedPrecisionMode.Bf16, ConfigLoader.Parse(yaml, "w.yaml", _ => null).Training.MixedPrecision);
    }

    [Fact]
    public void OverflowPersistSteps_BelowOne_Rejected()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("recovery:\n  overflow_persist_steps: 0\n", "voice.yaml", _ => null));
        Assert.Contains("recovery.overflow_persist_steps", e.Message);
    }
}
