using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Data;

namespace TacotronRecovery.Core.Tests.Data;

public class DatasetValidatorTests
{
    private readonly string _dir = DataFixture.NewFolder();

    private DatasetEntry Entry(string name, string text = "Hello.", int line = 1) => new(line, name, text, Path.Combine(_dir, name + ".wav"));

    private static (DatasetProblemCode, ProblemSeverity)[] Codes(RowCheck c) => c.Problems.Select(p => (p.Code, p.Severity)).ToArray();

    [Fact]
    public void Check_GoodRow_UsableWithIdsAndDuration()
    {
        DataFixture.WriteTone(Path.Combine(_dir, "good.wav"), 1.0);
        var c = new DatasetValidator(new DataOptions()).Check(Entry("good"));
        Assert.Empty(c.Problems);
        Assert.True(c.Usable);
        Assert.Equal(new[] { 45, 42, 49, 49, 52, 7 }, c.TokenIds);
        Assert.Equal(1.0, c.DurationSeconds, 3);
        Assert.Null(c.Audio);
    }

    [Fact]
    public void Check_KeepAudio_ReturnsSamplesAtTrainingRate()
    {
        DataFixture.WriteTone(Path.Combine(_dir, "good.wav"), 1.0);
        var c = new DatasetValidator(new DataOptions()).Check(Entry("good"), keepAudio: true);
        Assert.Equal(22050, c.Audio!.Samples.Length);
    }

    [Fact]
    public void Check_MissingFile_ErrorNamingPath()
    {
        var c = new DatasetValidator(new DataOptions()).Check(Entry("gone", line: 7));
        var p = Assert.Single(c.Problems);
        Assert.Equal((DatasetProblemCode.MissingFile, ProblemSeverity.Error, 7, "gone"), (p.Code, p.Severity, p.Line, p.Id));
        Assert.Contains(Path.Combine(_dir, "gone.wav"), p.Message);
        Assert.False(c.Usable);
    }

    [Fact]
    public void Check_TruncatedWav_TruncatedWavError()
    {
        var path = Path.Combine(_dir, "cut.wav");
        DataFixture.WriteTone(path, 1.0);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        Assert.Equal(new[] { (DatasetProblemCode.TruncatedWav, ProblemSeverity.Error) }, Codes(new DatasetValidator(new DataOptions()).Check(Entry("cut"))));
    }

    [Fact]
    public void Check_TextFileNamedWav_NotWavError()
    {
        File.WriteAllText(Path.Combine(_dir, "text.wav"), "this is not audio at all, just some words in a file");
        Assert.Equal(new[] { (DatasetProblemCode.NotWav, ProblemSeverity.Error) }, Codes(new DatasetValidator(new DataOptions()).Check(Entry("text"))));
    }

    [Fact]
    public void Check_EightBitWav_UnsupportedFormatError()
    {
        DataFixture.WriteTone(Path.Combine(_dir, "b8.wav"), 1.0, bits: 8);
        Assert.Equal(new[] { (DatasetProblemCode.UnsupportedFormat, ProblemSeverity.Error) }, Codes(new DatasetValidator(new DataOptions()).Check(Entry("b8"))));
    }

    [Fact]
    public void Check_OtherSampleRateWithResampling_WarningAndUsable()
    {
        DataFixture.WriteTone(Path.Combine(_dir, "hi.wav"), 1.0, sampleRate: 44100);
        var c = new DatasetValidator(new DataOptions()).Check(Entry("hi"), keepAudio: true);
        Assert.Equal(new[] { (DatasetProblemCode.WrongSampleRate, ProblemSeverity.Warning) }, Codes(c));
        Assert.True(c.Usable);
        Assert.InRange(c.Audio!.Samples.Length, 22040, 22060);
    }

    [Fact]
    public void Check_OtherSampleRateWithoutResampling_Error()
    {
        DataFixture.WriteTone(Path.Combine(_dir, "hi.wav"), 1.0, sampleRate: 44100);
        var c = new DatasetValidator(new DataOptions { Resample = false }).Check(Entry("hi"));
        Assert.Equal(new[] { (DatasetProblemCode.WrongSampleRate, ProblemSeverity.Error) }, Codes(c));
        Assert.Contains("44100 Hz, expected 22050 Hz", c.Problems[0].Message);
        Assert.False(c.Usable);
    }

    [Fact]
    public void Check_Stereo_WarningAndUsable()
    {
        DataFixture.WriteTone(Path.Combine(_dir, "st.wav"), 1.0, channels: 2);
        var c = new DatasetValidator(new DataOptions()).Check(Entry("st"));
        Assert.Equal(new[] { (DatasetProblemCode.Stereo, ProblemSeverity.Warning) }, Codes(c));
        Assert.True(c.Usable);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\"\"")]
    public void Check_EmptyText_EmptyTextError(string text)
    {
        DataFixture.WriteTone(Path.Combine(_dir, "ok.wav"), 1.0);
        Assert.Equal(new[] { (DatasetProblemCode.EmptyText, ProblemSeverity.Error) }, Codes(new DatasetValidator(new DataOptions()).Check(Entry("ok", text))));
    }

    [Fact]
    public void Check_UnknownSymbolsErrorPolicy_ErrorWithCharacters()
    {
        DataFixture.WriteTone(Path.Combine(_dir, "ok.wav"), 1.0);
        var c = new DatasetValidator(new DataOptions()).Check(Entry("ok", "Section § 漢"));
        Assert.Equal(new[] { (DatasetProblemCode.UnknownSymbols, ProblemSeverity.Error) }, Codes(c));
        Assert.Contains("'§' (U+00A7) at 8, '漢' (U+6F22) at 10", c.Problems[0].Message);
        Assert.Null(c.TokenIds);
    }

    [Fact]
    public void Check_UnknownSymbolsDropPolicy_WarningAndUsable()
    {
        DataFixture.WriteTone(Path.Combine(_dir, "ok.wav"), 1.0);
        var c = new DatasetValidator(new DataOptions { UnknownCharacters = UnknownCharacterPolicy.Drop }).Check(Entry("ok", "a § b"));
        Assert.Equal(new[] { (DatasetProblemCode.UnknownSymbols, ProblemSeverity.Warning) }, Codes(c));
        Assert.Equal(new[] { 38, 11, 39 }, c.TokenIds);
        Assert.True(c.Usable);
    }

    [Fact]
    public void Check_DurationLimits_TooShortAndTooLong()
    {
        DataFixture.WriteTone(Path.Combine(_dir, "short.wav"), 0.1);
        DataFixture.WriteTone(Path.Combine(_dir, "long.wav"), 2.0);
        var v = new DatasetValidator(new DataOptions { MinDurationSeconds = 0.3, MaxDurationSeconds = 1.5 });
        Assert.Equal(new[] { (DatasetProblemCode.TooShort, ProblemSeverity.Error) }, Codes(v.Check(Entry("short"))));
        var longCheck = v.Check(Entry("long"));
        Assert.Equal(new[] { (DatasetProblemCode.TooLong, ProblemSeverity.Error) }, Codes(longCheck));
        Assert.Contains("2 s is longer than the maximum 1.5 s", longCheck.Problems[0].Message);
    }

    [Fact]
    public void Check_Silence_SilenceOnlyError()
    {
        DataFixture.WriteTone(Path.Combine(_dir, "quiet.wav"), 1.0, amplitude: 0.001);
        Assert.Equal(new[] { (DatasetProblemCode.SilenceOnly, ProblemSeverity.Error) }, Codes(new DatasetValidator(new DataOptions()).Check(Entry("quiet"))));
    }

    [Fact]
    public void CheckAll_ListingWithLineProblems_OneCheckPerLineInOrder()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "wavs"));
        DataFixture.WriteTone(Path.Combine(_dir, "wavs", "a.wav"), 1.0);
        DataFixture.WriteTone(Path.Combine(_dir, "wavs", "c.wav"), 1.0, channels: 2);
        DataFixture.WriteMetadata(_dir, "a|One.|One.", "broken line", "c|Three.|Three.", "d|Four.|Four.", "also broken");
        var listing = DatasetReader.ReadLJSpeech(_dir);

        var checks = new DatasetValidator(new DataOptions()).CheckAll(listing).ToList();

        Assert.Equal(new[] { 1, 2, 3, 4, 5 }, checks.Select(c => c.Line));
        Assert.Equal(new[] { true, false, true, false, false }, checks.Select(c => c.Usable));
        Assert.Equal(
            new[] { DatasetProblemCode.MalformedLine, DatasetProblemCode.Stereo, DatasetProblemCode.MissingFile, DatasetProblemCode.MalformedLine },
            checks.SelectMany(c => c.Problems).Select(p => p.Code));

        var summary = DatasetSummary.From(listing, checks, new DatasetSplit(null, 0));
        Assert.Equal((5, 2, 3, 3, 1), (summary.Rows, summary.UsableRows, summary.SkippedRows, summary.Errors, summary.Warnings));
        Assert.Equal(2, summary.ProblemCounts["MalformedLine"]);
        Assert.Equal(1, summary.ProblemCounts["Stereo"]);
        Assert.Equal((2, 0), (summary.TrainingRows, summary.ValidationRows));
        Assert.Equal(1.0, summary.MeanDurationSeconds, 3);
        Assert.Equal(0.000556, summary.TotalAudioHours);
    }
}
