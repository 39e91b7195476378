using System.Globalization;

namespace TacotronRecovery.Core;

/// <summary>
/// The one way figures are written for people (format views, the demo, engine log lines, alerts): shares as whole
/// percentages with a space (<c>92 %</c>), durations as <c>m:ss</c> (<c>h:mm:ss</c> from an hour), losses and other
/// measured quantities with 4 significant digits. Invariant culture, so a log reads the same on every machine. The
/// objects keep full precision; only their display goes through here. A missing value (null) is written as an empty
/// string; the methods take nullable arguments so that PowerShell never turns a $null into 0.
/// </summary>
public static class Figures
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>A share 0..1 (Diagonality, GateAccuracy...) as a whole percentage: 0.9236 → <c>92 %</c>.</summary>
    /// <param name="fraction">The share, 0..1; null gives an empty string, NaN <c>NaN</c>.</param>
    public static string Share(double? fraction) => fraction is double f ? Percent(100 * f) : "";

    /// <summary>A value already on a 0..100 scale (Quality) as a whole percentage: 68.61 → <c>69 %</c>.</summary>
    /// <param name="percent">The value, 0..100; null gives an empty string, NaN <c>NaN</c>.</param>
    public static string Percent(double? percent) => percent switch
    {
        null => "",
        double p when double.IsFinite(p) => Math.Round(p, MidpointRounding.AwayFromZero).ToString("0", Inv) + " %",
        double p => Number(p),
    };

    /// <summary>A duration as <c>m:ss</c>, or <c>h:mm:ss</c> from one hour on: 0:23, 12:05, 1:02:09.</summary>
    /// <param name="duration">The duration; negative ones get a leading minus; null gives an empty string.</param>
    public static string Duration(TimeSpan? duration)
    {
        if (duration is not TimeSpan d) return "";
        if (d < TimeSpan.Zero) return "-" + Duration(d.Negate());
        long seconds = (long)Math.Round(d.TotalSeconds, MidpointRounding.AwayFromZero);
        long h = seconds / 3600, m = seconds / 60 % 60, s = seconds % 60;
        return h > 0 ? string.Create(Inv, $"{h}:{m:00}:{s:00}") : string.Create(Inv, $"{m}:{s:00}");
    }

    /// <summary>A duration given in minutes (<c>RecoveryResult.Minutes</c>), written like <see cref="Duration"/>.</summary>
    /// <param name="minutes">Minutes; NaN or infinite is written as a number; null gives an empty string.</param>
    public static string Minutes(double? minutes) => Seconds(minutes * 60);

    /// <summary>A duration given in seconds, written like <see cref="Duration"/>.</summary>
    /// <param name="seconds">Seconds; NaN or infinite is written as a number; null gives an empty string.</param>
    public static string Seconds(double? seconds) => seconds switch
    {
        null => "",
        double s when double.IsFinite(s) && Math.Abs(s) < TimeSpan.MaxValue.TotalSeconds => Duration(TimeSpan.FromSeconds(s)),
        double s => Number(s),
    };

    /// <summary>A loss (or any measured quantity) with 4 significant digits: 3.06341 → <c>3.063</c>, 0.0123456 → <c>0.01235</c>.</summary>
    /// <param name="value">The value; NaN and infinities are written as such; null gives an empty string.</param>
    public static string Number(double? value) => value switch
    {
        null => "",
        double v when double.IsNaN(v) => "NaN",
        double v when double.IsPositiveInfinity(v) => "∞",
        double v when double.IsNegativeInfinity(v) => "-∞",
        double v => v.ToString("G4", Inv),
    };
}
