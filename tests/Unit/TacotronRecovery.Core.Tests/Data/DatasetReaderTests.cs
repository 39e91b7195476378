using System.Text;
using TacotronRecovery.Core.Data;

namespace TacotronRecovery.Core.Tests.Data;

public class DatasetReaderTests
{
    [Fact]
    public void ReadLJSpeech_ThreeAndTwoColumns_NormalizedPreferredAndLinesNumbered()
    {
        var dir = DataFixture.NewFolder();
        DataFixture.WriteMetadata(dir, "LJ001|Dr. Smith, 1st|Doctor Smith, first", "", "LJ002|Only text", "LJ003|Raw 2|");
        var l = DatasetReader.ReadLJSpeech(dir);
        Assert.Equal(3, l.Entries.Count);
        Assert.Equal(new DatasetEntry(1, "LJ001", "Doctor Smith, first", Path.Combine(dir, "wavs", "LJ001.wav")), l.Entries[0]);
        Assert.Equal((3, "Only text"), (l.Entries[1].Line, l.Entries[1].Text));
        Assert.Equal((4, "Raw 2"), (l.Entries[2].Line, l.Entries[2].Text));
        Assert.Equal(3, l.LineCount);
        Assert.Empty(l.Problems);
    }

    [Fact]
    public void ReadLJSpeech_InvalidUtf8Line_ReportedOthersKept()
    {
        var dir = DataFixture.NewFolder();
        var bytes = new List<byte>();
        bytes.AddRange(Encoding.UTF8.GetBytes("a|fine|fine\r\n"));
        bytes.AddRange(Encoding.UTF8.GetBytes("b|bad "));
        bytes.AddRange(new byte[] { 0xFF, 0xFE });
        bytes.AddRange(Encoding.UTF8.GetBytes(" text|\r\nc|fine too|\r\n"));
        File.WriteAllBytes(Path.Combine(dir, "metadata.csv"), bytes.ToArray());

        var l = DatasetReader.ReadLJSpeech(dir);

        Assert.Equal(new[] { ("a", 1), ("c", 3) }, l.Entries.Select(e => (e.Id, e.Line)));
        var p = Assert.Single(l.Problems);
        Assert.Equal((DatasetProblemCode.InvalidEncoding, ProblemSeverity.Error, 2, "b"), (p.Code, p.Severity, p.Line, p.Id));
        Assert.Contains("metadata.csv line 2", p.Message);
        Assert.Contains("0xFF", p.Message);
        Assert.Equal(3, l.LineCount);
    }

    [Fact]
    public void ReadLJSpeech_LineWithoutSeparatorOrId_MalformedLine()
    {
        var dir = DataFixture.NewFolder();
        DataFixture.WriteMetadata(dir, "no separator here", "|text without id", "ok|fine");
        var l = DatasetReader.ReadLJSpeech(dir);
        Assert.Equal(new[] { (DatasetProblemCode.MalformedLine, 1), (DatasetProblemCode.MalformedLine, 2) }, l.Problems.Select(p => (p.Code, p.Line)));
        Assert.Contains("no '|' separator", l.Problems[0].Message);
        Assert.Equal("ok", Assert.Single(l.Entries).Id);
    }

    [Fact]
    public void ReadLJSpeech_ByteOrderMark_Stripped()
    {
        var dir = DataFixture.NewFolder();
        File.WriteAllBytes(Path.Combine(dir, "metadata.csv"), [0xEF, 0xBB, 0xBF, .. "x|y|z"u8.ToArray()]);
        Assert.Equal("x", Assert.Single(DatasetReader.ReadLJSpeech(dir).Entries).Id);
    }

    [Fact]
    public void Read_MissingFolder_ThrowsNamingIt()
    {
        var missing = Path.Combine(DataFixture.NewFolder(), "nope");
        var e = Assert.Throws<DatasetNotFoundException>(() => DatasetReader.Read(missing));
        Assert.Equal(missing, e.Path);
        Assert.Contains(missing, e.Message);
    }

    [Fact]
    public void Read_FolderWithoutMetadata_ThrowsNamingMetadata()
    {
        var dir = DataFixture.NewFolder();
        var e = Assert.Throws<DatasetNotFoundException>(() => DatasetReader.Read(dir));
        Assert.Equal(Path.Combine(dir, "metadata.csv"), e.Path);
    }

    [Fact]
    public void ReadFilelist_RelativeAndAbsolutePaths_ResolvedAgainstFilelistFolder()
    {
        var dir = DataFixture.NewFolder();
        var abs = Path.Combine(DataFixture.NewFolder(), "abs.wav");
        Directory.CreateDirectory(Path.Combine(dir, "lists"));
        var list = Path.Combine(dir, "lists", "train.txt");
        File.WriteAllText(list, $"../wavs/LJ001.wav|Hello.\n{abs}|World.|speaker1\n");

        var l = DatasetReader.Read(list);

        Assert.Equal(new DatasetEntry(1, "LJ001", "Hello.", Path.Combine(dir, "wavs", "LJ001.wav")), l.Entries[0]);
        Assert.Equal(new DatasetEntry(2, "abs", "World.", abs), l.Entries[1]);
        Assert.Equal(list, l.Source);
    }

    [Fact]
    public void Read_MetadataFilePath_ReadsLJSpeechFolder()
    {
        var dir = DataFixture.NewFolder();
        DataFixture.WriteMetadata(dir, "x|y");
        var l = DatasetReader.Read(Path.Combine(dir, "metadata.csv"));
        Assert.Equal(Path.Combine(dir, "wavs", "x.wav"), Assert.Single(l.Entries).AudioPath);
        Assert.Equal(dir, l.Root);
    }
}
