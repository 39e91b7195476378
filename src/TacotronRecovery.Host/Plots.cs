using TacotronRecovery.Core.Plots;

namespace TacotronRecovery.Host;

/// <summary>Plot output of the engine process (rendering lives in Core).</summary>
public static class Plots
{
    /// <summary>Attention heatmap PNG (decoder step × token).</summary>
    public static void Alignment(string path, float[] alignment, int steps, int tokens, string title)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        PlotRenderer.Alignment(alignment, steps, tokens, title, path);
    }
}
