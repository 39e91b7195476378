using TacotronRecovery.Core.Text;

namespace TacotronRecovery.Core.Tests.Text;

public class SymbolsTests
{
    [Fact]
    public void All_ReferenceSet_Has148SymbolsInReferenceOrder()
    {
        Assert.Equal(148, Symbols.Count);
        Assert.Equal(84, Symbols.Arpabet.Count);
        Assert.Equal("_", Symbols.All[0]);
        Assert.Equal("-", Symbols.All[1]);
        Assert.Equal("!", Symbols.All[2]);
        Assert.Equal("'", Symbols.All[3]);
        Assert.Equal("?", Symbols.All[10]);
        Assert.Equal(" ", Symbols.All[11]);
        Assert.Equal("A", Symbols.All[12]);
        Assert.Equal("Z", Symbols.All[37]);
        Assert.Equal("a", Symbols.All[38]);
        Assert.Equal("z", Symbols.All[63]);
        Assert.Equal("@AA", Symbols.All[64]);
        Assert.Equal("@HH", Symbols.All[106]);
        Assert.Equal("@ZH", Symbols.All[147]);
        Assert.Equal(148, Symbols.All.Distinct().Count());
    }

    [Theory]
    [InlineData('a', 38)]
    [InlineData('Q', 28)]
    [InlineData(' ', 11)]
    [InlineData(';', 9)]
    [InlineData('_', -1)]
    [InlineData('"', -1)]
    [InlineData('§', -1)]
    public void IdOfChar_Character_ReturnsReferenceId(char c, int expected) => Assert.Equal(expected, Symbols.IdOfChar(c));

    [Theory]
    [InlineData("AA", 64)]
    [InlineData("AH0", 73)]
    [InlineData("OW1", 123)]
    [InlineData("ZH", 147)]
    [InlineData("XX", -1)]
    [InlineData("", -1)]
    public void IdOfArpabet_Phoneme_ReturnsReferenceId(string phoneme, int expected) => Assert.Equal(expected, Symbols.IdOfArpabet(phoneme));

    [Fact]
    public void Symbol_IdOutOfRange_Throws() => Assert.Throws<ArgumentOutOfRangeException>(() => Symbols.Symbol(148));
}
