using System.Globalization;
using System.Text.Json;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Health;

/// <summary>
/// An external command's attention matrices (<c>attention/step-000500.json</c>, written by the adapter) scored into
/// <see cref="AlignmentMetrics"/> with the one <see cref="AlignmentScorer"/>:
/// <code>{"step":500,"source":"Train","utterances":[{"id":"LJ001-0001","steps":T,"tokens":N,"alignment":[T·N floats, row-major]}],"gate_accuracy":0.91}</code>
/// Each utterance is scored on its own (its steps and tokens are all valid) and the figures are averaged, as for a
/// batch of our engine. <c>gate_accuracy</c> is optional (balanced accuracy of the gate on the same batch); without it
/// GateAccuracy is NaN and the Quality score's gate term counts as 0.
/// </summary>
public static class AttentionFile
{
    /// <summary>File name of the matrices at <paramref name="step"/>: <c>step-000500.json</c>.</summary>
    public static string FileName(int step) => $"step-{step:D6}.json";

    /// <summary>The step in a name like <c>step-000500.json</c>, or null for another name (a temporary file).</summary>
    public static int? StepOf(string fileName)
    {
        var name = Path.GetFileName(fileName);
        if (!name.StartsWith("step-", StringComparison.Ordinal) || !name.EndsWith(".json", StringComparison.Ordinal)) return null;
        return int.TryParse(name.AsSpan(5, name.Length - 10), NumberStyles.None, CultureInfo.InvariantCulture, out int step) ? step : null;
    }

    /// <summary>Scores one file's JSON.</summary>
    /// <param name="json">The file's content.</param>
    /// <param name="run">Run name for the record.</param>
    /// <param name="time">Time for the record.</param>
    /// <exception cref="RunDataException">AttentionFileInvalid: not the documented shape, or a matrix that does not fit its sizes.</exception>
    public static AlignmentMetrics Score(string json, string? run, DateTimeOffset time)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            int step = root.GetProperty("step").GetInt32();
            string source = root.TryGetProperty("source", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()!.ToLowerInvariant() : AlignmentMetrics.Sources.Train;
            double gate = root.TryGetProperty("gate_accuracy", out var g) && g.ValueKind == JsonValueKind.Number ? g.GetDouble() : double.NaN;
            var scores = new List<AlignmentScore>();
            foreach (var u in root.GetProperty("utterances").EnumerateArray())
            {
                int steps = u.GetProperty("steps").GetInt32(), tokens = u.GetProperty("tokens").GetInt32();
                var values = u.GetProperty("alignment");
                var a = new float[values.GetArrayLength()];
                int i = 0;
                foreach (var v in values.EnumerateArray()) a[i++] = v.ValueKind == JsonValueKind.Number ? v.GetSingle() : float.NaN;
                string id = u.TryGetProperty("id", out var idElement) ? idElement.ToString() : $"#{scores.Count}";
                if (steps < 1 || tokens < 1 || (long)steps * tokens != a.Length)
                    throw new FormatException($"utterance {id}: {a.Length} values for {steps} steps × {tokens} tokens");
                scores.Add(AlignmentScorer.Score(a, steps, tokens));
            }
            if (scores.Count == 0) throw new FormatException("no utterances");
            double d = scores.Average(x => x.Diagonality), m = scores.Average(x => x.Monotonicity);
            return new AlignmentMetrics
            {
                Run = run, Step = step, Time = time, Source = source,
                Diagonality = d, FocusRate = scores.Average(x => x.FocusRate), Coverage = scores.Average(x => x.Coverage),
                Monotonicity = m, GateAccuracy = gate, EndStallRate = scores.Count(x => x.EndStall) / (double)scores.Count,
                Quality = QualityScore.Compute(d, gate, m),
            };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new RunDataException("AttentionFileInvalid", "", $"Attention matrices unusable: {e.Message}", e);
        }
    }

    /// <summary>Reads and scores <paramref name="path"/> (see <see cref="Score(string, string?, DateTimeOffset)"/>); the error names the file.</summary>
    public static AlignmentMetrics Read(string path, string? run, DateTimeOffset time)
    {
        try { return Score(File.ReadAllText(path), run, time); }
        catch (RunDataException e) { throw new RunDataException(e.ErrorId, path, $"{Path.GetFileName(path)}: {e.Message}", e); }
    }
}
