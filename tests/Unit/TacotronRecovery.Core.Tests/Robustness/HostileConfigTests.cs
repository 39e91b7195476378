using System.Diagnostics;
using System.Text;
using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Core.Tests.Robustness;

/// <summary>
/// Config files from the worst day (docs/robustness.md): each is refused with ConfigInvalid naming the file, the line
/// where it can and the key, within a time bound, and never by a stack overflow (which would end the user's pwsh).
/// </summary>
public sealed class HostileConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tacotron-hostile-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ConfigException Refused(string yaml, TimeSpan? bound = null)
    {
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "voice.yaml", _ => null));
        Assert.True(clock.Elapsed < (bound ?? TimeSpan.FromSeconds(3)), $"took {clock.Elapsed}");
        Assert.StartsWith("voice.yaml", e.Message);
        Assert.Equal("ConfigInvalid", e.ErrorId);
        return e;
    }

    [Theory]
    [InlineData(50_000)]
    [InlineData(YamlTree.MaxDepth + 1)]
    public void DeeplyNestedFlowSequences_AreRefusedWithTheLine(int depth)
    {
        var yaml = "training: " + new string('[', depth) + new string(']', depth) + "\n";
        var e = Refused(yaml);
        Assert.Contains("nested more than", e.Problem);
        Assert.Equal(1, e.Line);
        Assert.StartsWith("training", e.KeyPath);
    }

    [Fact]
    public void DeeplyNestedBlockMappings_AreRefused()
    {
        var sb = new StringBuilder();
        for (var i = 0; i < 200; i++) sb.Append(' ', i).Append('k').Append(i).Append(":\n");
        var e = Refused(sb.ToString());
        Assert.Contains("nested more than", e.Problem);
        Assert.True(e.Line > YamlTree.MaxDepth - 2, $"line {e.Line}");
    }

    [Fact]
    public void NestingAtTheLimit_IsParsedAndThenJudgedByTheSchema()
    {
        // Within the limit the tree is built; the schema then says what is wrong, with the key.
        var depth = YamlTree.MaxDepth - 2;
        var e = Refused("training: " + new string('[', depth) + new string(']', depth) + "\n");
        Assert.DoesNotContain("nested more than", e.Problem);
        Assert.Equal("training", e.KeyPath);
    }

    [Fact]
    public void AliasBomb_IsRefusedFast()
    {
        var sb = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (var i = 1; i < 10; i++)
            sb.Append($"a{i}: &a{i} [").Append(string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))).Append("]\n");
        var e = Refused(sb.ToString(), TimeSpan.FromSeconds(2));
        Assert.Contains("YAML nodes", e.Problem);
        Assert.True(e.Line > 1);
    }

    [Fact]
    public void OversizedFile_IsRefusedBeforeReading()
    {
        var path = Path.Combine(_dir, "huge.yaml");
        using (var f = File.Create(path)) f.SetLength(ConfigLoader.MaxFileBytes + 1);
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, _ => null));
        Assert.Contains("huge.yaml", e.Message);
        Assert.Contains("at most", e.Problem);
    }

    [Theory]
    [InlineData("training:\n  batch_size: [1, 2\n", "not valid YAML")]                      // unclosed flow
    [InlineData("training:\n\tbatch_size: 4\n", "not valid YAML")]                           // tab indent
    [InlineData("training:\n  batch_size: four\n", "training.batch_size")]                   // wrong type
    [InlineData("training:\n  batch_size: 99999999999999999999\n", "training.batch_size")]  // out of int range
    [InlineData("training:\n  learning_rate: .nan\n", "training.learning_rate")]             // non-finite
    [InlineData("training:\n  lerning_rate: 0.001\n", "lerning_rate")]                        // unknown key
    [InlineData("training:\n  batch_size: 4\n  batch_size: 8\n", "duplicate key")]           // duplicate
    [InlineData("training: *nowhere\n", "unknown alias")]                                      // dangling alias
    [InlineData("telegram:\n  chat_id: ${TACOTRON_SURELY_UNSET}\n", "TACOTRON_SURELY_UNSET")]  // env reference unset
    [InlineData("a: 1\n---\nb: 2\n", "more than one YAML document")]                          // two documents
    [InlineData("- just\n- a list\n", "mapping of sections")]                                  // wrong root
    [InlineData("training:\n  batch_size: -3\n", "batch_size")]                                // out of range
    public void MalformedConfig_NamesTheProblem(string yaml, string expected)
    {
        var e = Refused(yaml);
        Assert.Contains(expected, e.Message);
        Assert.True(e.Line > 0 || e.KeyPath.Length > 0, e.Message);
    }
}
