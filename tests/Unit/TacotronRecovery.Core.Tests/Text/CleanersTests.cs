using TacotronRecovery.Core.Text;

namespace TacotronRecovery.Core.Tests.Text;

public class CleanersTests
{
    [Theory]
    [InlineData("Mr. Smith paid $3.50 on the 1st of May, 1984.", "mister smith paid three dollars, fifty cents on the first of may, nineteen eighty-four.")]
    [InlineData("Dr. Jones bought 1,000 apples for £2.", "doctor jones bought one thousand apples for two pounds.")]
    [InlineData("Café   Zoë\tnaïve", "cafe zoe naive")]
    [InlineData("It is 3.14 wide", "it is three point one four wide")]
    [InlineData("\"Quoted\" words & more", "quoted words and more")]
    [InlineData("It’s 50% off — now", "it's fifty percent off - now")]
    [InlineData("  leading and trailing  ", "leading and trailing")]
    public void EnglishCleaners_Sentence_MatchesExpected(string input, string expected) => Assert.Equal(expected, Cleaners.EnglishCleaners(input));

    [Theory]
    [InlineData("0", "zero")]
    [InlineData("7", "seven")]
    [InlineData("15", "fifteen")]
    [InlineData("40", "forty")]
    [InlineData("123", "one hundred twenty-three")]
    [InlineData("1000", "one thousand")]
    [InlineData("12345", "twelve thousand, three hundred forty-five")]
    [InlineData("1000000", "one million")]
    [InlineData("2000001", "two million, one")]
    [InlineData("1905", "nineteen oh five")]
    [InlineData("1900", "nineteen hundred")]
    [InlineData("2000", "two thousand")]
    [InlineData("2005", "two thousand five")]
    [InlineData("2019", "twenty nineteen")]
    [InlineData("3000", "three thousand")]
    [InlineData("21st", "twenty-first")]
    [InlineData("2nd", "second")]
    [InlineData("3rd", "third")]
    [InlineData("12th", "twelfth")]
    [InlineData("20th", "twentieth")]
    [InlineData("100th", "one hundredth")]
    [InlineData("$1", "one dollar")]
    [InlineData("$0.01", "one cent")]
    [InlineData("$2,000", "two thousand dollars")]
    [InlineData("£1.50", "one pound, fifty pence")]
    [InlineData("€3", "three euros")]
    [InlineData("$", "dollars")]
    public void EnglishCleaners_Number_SpelledOut(string input, string expected) => Assert.Equal(expected, Cleaners.EnglishCleaners(input));

    [Theory]
    [InlineData("Mrs. Drs. Rev. Lt. Hon. Sgt. Capt. Esq.", "misess doctors reverend lieutenant honorable sergeant captain esquire")]
    [InlineData("St. Ft. Ltd. Co. Jr. Maj. Gen. Col.", "saint fort limited company junior major general colonel")]
    [InlineData("Mr Smith", "mr smith")]
    public void EnglishCleaners_Abbreviation_Expanded(string input, string expected) => Assert.Equal(expected, Cleaners.EnglishCleaners(input));

    [Fact]
    public void BasicCleaners_Text_LowercasesAndCollapsesOnly() => Assert.Equal("héllo world 42", Cleaners.BasicCleaners("  Héllo   World 42 "));

    [Fact]
    public void TransliterationCleaners_Text_AsciiLowercase() => Assert.Equal("aeroskobing strasse lodz", Cleaners.TransliterationCleaners("Ærøskøbing Straße Łódź"));

    [Fact]
    public void Clean_UnknownCleaner_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => Cleaners.Clean("x", "english_cleaners, german_cleaners"));
        Assert.Contains("'german_cleaners'", e.Message);
    }

    [Fact]
    public void Clean_TwoCleaners_RunsInOrder() => Assert.Equal("cafe", Cleaners.Clean("Café", "basic_cleaners,transliteration_cleaners"));
}
