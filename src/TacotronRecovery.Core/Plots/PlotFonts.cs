using ScottPlot;
using SkiaSharp;

namespace TacotronRecovery.Core.Plots;

/// <summary>
/// The bundled font (DejaVu Sans, Bitstream Vera licence in <c>licenses/DejaVuSans.LICENSE.txt</c>), embedded in this
/// assembly and registered with ScottPlot so that text renders on machines without any installed fonts (ScottPlot
/// otherwise silently draws no text there).
/// </summary>
public static class PlotFonts
{
    /// <summary>Family name the plots use.</summary>
    public const string FamilyName = "DejaVu Sans";

    private const string ResourceName = "TacotronRecovery.Core.Assets.DejaVuSans.ttf";
    private static readonly Lock Gate = new();
    private static byte[]? _bytes;
    private static bool _registered;

    /// <summary>Raw bytes of the bundled TTF.</summary>
    /// <exception cref="InvalidOperationException">The resource is missing from the assembly (a broken build).</exception>
    public static byte[] FontBytes()
    {
        if (_bytes is { } b) return b;
        using var s = typeof(PlotFonts).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded font resource '{ResourceName}' is missing from {typeof(PlotFonts).Assembly.GetName().Name}.");
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return _bytes = ms.ToArray();
    }

    /// <summary>Registers the bundled font with ScottPlot and makes it the default (idempotent, thread-safe).</summary>
    public static void EnsureRegistered()
    {
        lock (Gate)
        {
            if (_registered) return;
            Fonts.FontResolvers.Insert(0, new EmbeddedFontResolver(FontBytes()));
            Fonts.Default = FamilyName;
            Fonts.Sans = FamilyName;
            _registered = true;
        }
    }

    private sealed class EmbeddedFontResolver(byte[] bytes) : IFontResolver
    {
        public SKTypeface? CreateTypeface(string fontName, FontWeight weight, FontSlant slant, FontSpacing spacing) =>
            Create(fontName);

        public SKTypeface? CreateTypeface(string fontName, bool bold, bool italic) => Create(fontName);

        private SKTypeface? Create(string fontName)
        {
            if (!string.Equals(fontName, FamilyName, StringComparison.OrdinalIgnoreCase)) return null;
            using var data = SKData.CreateCopy(bytes);
            return SKTypeface.FromData(data);
        }
    }
}
