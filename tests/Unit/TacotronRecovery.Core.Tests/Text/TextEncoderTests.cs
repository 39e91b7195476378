using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Text;

namespace TacotronRecovery.Core.Tests.Text;

public class TextEncoderTests
{
    [Fact]
    public void Encode_PlainSentence_ReferenceIds()
    {
        var r = new TextEncoder().Encode("Hello, world.");
        Assert.Equal(new[] { 45, 42, 49, 49, 52, 6, 11, 60, 52, 55, 49, 41, 7 }, r.Ids);
        Assert.Equal("hello, world.", r.CleanedText);
        Assert.True(r.Succeeded);
        Assert.Empty(r.Unknown);
    }

    [Fact]
    public void Encode_ArpabetInBraces_PhonemeIdsAndCleanedRest()
    {
        var r = new TextEncoder().Encode("{HH AH0 L OW1} World");
        Assert.Equal(new[] { 106, 73, 117, 123, 11, 60, 52, 55, 49, 41 }, r.Ids);
        Assert.Equal("{HH AH0 L OW1} world", r.CleanedText);
    }

    [Fact]
    public void Encode_UnknownCharactersWithErrorPolicy_FailsWithPositions()
    {
        var r = new TextEncoder().Encode("a § b 漢");
        Assert.False(r.Succeeded);
        Assert.Equal(new[] { new UnknownCharacter("§", 2), new UnknownCharacter("漢", 6) }, r.Unknown);
        Assert.Equal(new[] { 38, 11, 39 }, r.Ids);
        Assert.Equal("unknown characters '§' (U+00A7) at 2, '漢' (U+6F22) at 6", r.Describe());
    }

    [Fact]
    public void Encode_UnknownCharactersWithDropPolicy_SucceedsWithoutThem()
    {
        var r = new TextEncoder(Cleaners.English, UnknownCharacterPolicy.Drop).Encode("a § b");
        Assert.True(r.Succeeded);
        Assert.Equal(new[] { 38, 11, 39 }, r.Ids);
        Assert.StartsWith("dropped unknown characters '§'", r.Describe());
    }

    [Fact]
    public void Encode_SurrogatePair_OneUnknownEntry()
    {
        var r = new TextEncoder().Encode("a😀");
        Assert.Equal(new[] { new UnknownCharacter("😀", 1) }, r.Unknown);
        Assert.Equal(new[] { 38 }, r.Ids);
    }

    [Fact]
    public void Encode_UnknownArpabetSymbol_ReportedWithPosition()
    {
        var r = new TextEncoder().Encode("{HH XX}");
        Assert.Equal(new[] { new UnknownCharacter("XX", 4) }, r.Unknown);
        Assert.Equal(new[] { 106 }, r.Ids);
    }

    [Fact]
    public void Encode_DigitsWithBasicCleaners_ReportedUnknown()
    {
        var r = new TextEncoder(Cleaners.Basic).Encode("a1");
        Assert.Equal(new[] { new UnknownCharacter("1", 1) }, r.Unknown);
    }

    [Fact]
    public void Encode_OptionsPolicy_Used()
    {
        var e = new TextEncoder(new DataOptions { UnknownCharacters = UnknownCharacterPolicy.Drop, TextCleaners = "basic_cleaners" });
        Assert.Equal(UnknownCharacterPolicy.Drop, e.Policy);
        Assert.Equal(new[] { 38 }, e.Encode("A").Ids);
    }

    [Fact]
    public void Decode_Ids_ReferenceText()
    {
        Assert.Equal("{HH AH0 L OW1} world", TextEncoder.Decode([106, 73, 117, 123, 11, 60, 52, 55, 49, 41]));
        Assert.Equal("_a", TextEncoder.Decode([0, 38]));
        Assert.Throws<ArgumentOutOfRangeException>(() => TextEncoder.Decode([148]));
    }

    [Fact]
    public void Decode_EncodedText_RoundTrips()
    {
        var r = new TextEncoder().Encode("Printing, in the only sense with which we are at present concerned!");
        Assert.Equal("printing, in the only sense with which we are at present concerned!", TextEncoder.Decode(r.Ids));
    }
}
