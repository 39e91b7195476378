namespace TacotronRecovery.Core.Text;

/// <summary>
/// The input symbol set of the NVIDIA Tacotron 2 reference (<c>text/symbols.py</c>): 148 symbols in the same order,
/// so ids match checkpoints trained with the reference. Id 0 is the pad <c>'_'</c>, then <c>'-'</c>, the punctuation
/// <c>!'(),.:;?</c> and space, the letters A–Z and a–z, and the 84 CMUdict ARPAbet symbols prefixed with <c>'@'</c>.
/// </summary>
public static class Symbols
{
    /// <summary>The pad symbol (id 0).</summary>
    public const string Pad = "_";

    /// <summary>Id of the pad symbol.</summary>
    public const int PadId = 0;

    /// <summary>The special symbol, placed right after the pad.</summary>
    public const string Special = "-";

    /// <summary>Punctuation symbols, in reference order (the last one is the space).</summary>
    public const string Punctuation = "!'(),.:;? ";

    /// <summary>Letters, upper case then lower case.</summary>
    public const string Letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>The 84 ARPAbet symbols of CMUdict (without the '@' prefix), in reference order.</summary>
    public static IReadOnlyList<string> Arpabet { get; } =
    [
        "AA", "AA0", "AA1", "AA2", "AE", "AE0", "AE1", "AE2", "AH", "AH0", "AH1", "AH2",
        "AO", "AO0", "AO1", "AO2", "AW", "AW0", "AW1", "AW2", "AY", "AY0", "AY1", "AY2",
        "B", "CH", "D", "DH", "EH", "EH0", "EH1", "EH2", "ER", "ER0", "ER1", "ER2", "EY",
        "EY0", "EY1", "EY2", "F", "G", "HH", "IH", "IH0", "IH1", "IH2", "IY", "IY0", "IY1",
        "IY2", "JH", "K", "L", "M", "N", "NG", "OW", "OW0", "OW1", "OW2", "OY", "OY0",
        "OY1", "OY2", "P", "R", "S", "SH", "T", "TH", "UH", "UH0", "UH1", "UH2", "UW",
        "UW0", "UW1", "UW2", "V", "W", "Y", "Z", "ZH",
    ];

    /// <summary>All 148 symbols; the index is the id.</summary>
    public static IReadOnlyList<string> All { get; } = Build();

    /// <summary>Number of symbols (148); the size of the model's embedding table.</summary>
    public static int Count => All.Count;

    private static readonly Dictionary<string, int> IdOf = All.Select((s, i) => (s, i)).ToDictionary(p => p.s, p => p.i, StringComparer.Ordinal);
    private static readonly int[] CharIds = BuildCharIds();

    private static string[] Build()
    {
        var list = new List<string> { Pad, Special };
        list.AddRange(Punctuation.Select(c => c.ToString()));
        list.AddRange(Letters.Select(c => c.ToString()));
        list.AddRange(Arpabet.Select(a => "@" + a));
        return list.ToArray();
    }

    private static int[] BuildCharIds()
    {
        var ids = new int[128];
        Array.Fill(ids, -1);
        for (int i = 1; i < All.Count; i++)
        {
            if (All[i].Length == 1) ids[All[i][0]] = i;
        }
        return ids;
    }

    /// <summary>Id of a single-character symbol, or -1 when <paramref name="c"/> is not a text symbol (the pad
    /// <c>'_'</c> is not accepted in text, as in the reference).</summary>
    public static int IdOfChar(char c) => c < 128 ? CharIds[c] : -1;

    /// <summary>Id of an ARPAbet symbol given without '@' (e.g. <c>"AH0"</c>), or -1 when it is not one.</summary>
    public static int IdOfArpabet(string phoneme) => IdOf.TryGetValue("@" + phoneme, out var id) && phoneme.Length > 0 ? id : -1;

    /// <summary>The symbol with id <paramref name="id"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is outside 0..147.</exception>
    public static string Symbol(int id) =>
        id >= 0 && id < All.Count ? All[id] : throw new ArgumentOutOfRangeException(nameof(id), id, $"Symbol id must be in 0..{All.Count - 1}.");
}
